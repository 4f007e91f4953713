package config

import (
	"bytes"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatDiagnostic(t *testing.T) {
	pos := func(line, col int) hcl.Pos { return hcl.Pos{Line: line, Column: col} }
	tests := []struct {
		name string
		in   *hcl.Diagnostic
		exp  string
	}{
		{
			name: "with position",
			in:   NewDiagnostic(hcl.Range{Filename: "gateway.hcl", Start: pos(14, 16), End: pos(14, 32)}, "Unknown upstream", "Detail."),
			exp:  "gateway.hcl:14:16: Unknown upstream; Detail.",
		},
		{
			name: "file only",
			in:   NewDiagnostic(hcl.Range{Filename: "gateway.hcl"}, "Invalid configuration", "build: boom"),
			exp:  "gateway.hcl: Invalid configuration; build: boom",
		},
		{
			name: "no range",
			in:   NewDiagnostic(hcl.Range{}, "Invalid configuration", "boom"),
			exp:  "Invalid configuration; boom",
		},
		{
			name: "warning and wrapped detail",
			in: &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Deprecated", Detail: "Line one\n  line two.",
				Subject: &hcl.Range{Filename: "g.hcl", Start: pos(1, 1)}},
			exp: "g.hcl:1:1: warning: Deprecated; Line one line two.",
		},
		{
			name: "no detail",
			in:   NewDiagnostic(hcl.Range{Filename: "g.hcl", Start: pos(2, 3)}, "Oops", ""),
			exp:  "g.hcl:2:3: Oops",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, FormatDiagnostic(tc.in))
		})
	}
}

func TestNewDiagnostic(t *testing.T) {
	rng := hcl.Range{Filename: "g.hcl", Start: hcl.Pos{Line: 3, Column: 1, Byte: 10}}
	d := NewDiagnostic(rng, "Invalid plugin", "compile failed.")
	assert.Equal(t, hcl.DiagError, d.Severity)
	require.NotNil(t, d.Subject)
	assert.Equal(t, rng, *d.Subject)
	rng.Start.Line = 99 // the diagnostic keeps its own copy
	assert.Equal(t, 3, d.Subject.Start.Line)
	assert.Nil(t, NewDiagnostic(hcl.Range{}, "s", "d").Subject)
	assert.True(t, hcl.Diagnostics{d}.HasErrors())
}

func TestFormatDiagnostics_snippet(t *testing.T) {
	_, diags := Load("testdata/invalid_routes.hcl")
	require.True(t, diags.HasErrors())
	out := FormatDiagnostics(diags)
	assert.Contains(t, out, "testdata/invalid_routes.hcl:55:14: Unknown upstream; route \"GET /unknown\" refers to upstream \"billing\", which is not defined. Add an upstream \"billing\" block or fix the name.\n"+
		"    55 |   upstream = upstream.billing\n"+
		"       |              ^^^^^^^^^^^^^^^^\n")
	// A diagnostic from another package at a block's range prints the same way.
	g, diags := Load("testdata/valid_full.hcl")
	require.False(t, diags.HasErrors())
	extra := NewDiagnostic(g.PluginByName["auth"].Range, "Invalid plugin", `plugin "auth": compile failed; rebuild it.`)
	assert.Equal(t, "testdata/valid_full.hcl:133:1: Invalid plugin; plugin \"auth\": compile failed; rebuild it.\n"+
		"   133 | plugin \"auth\" {\n"+
		"       | ^^^^^^^^^^^^^\n", FormatDiagnostics(hcl.Diagnostics{extra}))
}

func TestWriteDiagnostics(t *testing.T) {
	setTestEnv(t)
	_, diags := Load("testdata/invalid_values.hcl")
	require.True(t, diags.HasErrors())
	var buf bytes.Buffer
	require.NoError(t, WriteDiagnostics(&buf, diags))
	out := buf.String()
	assert.Contains(t, out, "Error: Invalid duration")
	assert.Contains(t, out, "on testdata/invalid_values.hcl line 5, in gateway:")
	assert.Contains(t, out, `read_timeout     = "10x"`)
	assert.NotContains(t, out, "\x1b[", "no color when not writing to a terminal")
	assert.NotContains(t, out, testSecret)
}
