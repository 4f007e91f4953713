package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenderTemplate(t *testing.T) {
	vars := templateVars{BackendURL: "http://127.0.0.1:8081", Listen: "127.0.0.1:9000", Admin: "127.0.0.1:9001"}
	tests := []struct {
		name   string
		in     string
		exp    string
		expErr string
	}{
		{
			name: "every placeholder, repeated",
			in:   `listen = ["${LISTEN}"] admin = "${ADMIN}" a = ["${BACKEND_URL}", "${BACKEND_URL}/x"]`,
			exp:  `listen = ["127.0.0.1:9000"] admin = "127.0.0.1:9001" a = ["http://127.0.0.1:8081", "http://127.0.0.1:8081/x"]`,
		},
		{
			name: "hcl interpolation is left alone",
			in:   `listen = ["${LISTEN}"] x = "${var.stage}-${BACKEND}"`,
			exp:  `listen = ["127.0.0.1:9000"] x = "${var.stage}-${BACKEND}"`,
		},
		{
			name:   "without LISTEN the gateway address is unknown",
			in:     `upstream "b" { targets = ["${BACKEND_URL}"] }`,
			expErr: `config template t.hcl does not use ${LISTEN}; put listen = ["${LISTEN}"] in its gateway block so the benchmark knows where to send load`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderTemplate("t.hcl", tc.in, vars)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, got)
		})
	}
}

func TestBuiltinTemplateRenders(t *testing.T) {
	tmpl, err := readTemplate(builtinPrefix + "gateway.hcl")
	require.NoError(t, err)
	onDisk, err := os.ReadFile(filepath.Join("testdata", "gateway.hcl"))
	require.NoError(t, err)
	assert.Equal(t, string(onDisk), tmpl)
	got, err := renderTemplate("gateway.hcl", tmpl, templateVars{BackendURL: "http://b:1", Listen: "l:2", Admin: "a:3"})
	require.NoError(t, err)
	assert.Contains(t, got, `listen       = ["l:2"]`)
	assert.Contains(t, got, `admin_listen = "a:3"`)
	assert.Contains(t, got, `targets = ["http://b:1"]`)
	assert.NotContains(t, got, "${")

	_, err = readTemplate(builtinPrefix + "nope.hcl")
	require.ErrorContains(t, err, `read built-in config template "nope.hcl"`)
	_, err = readTemplate(filepath.Join(t.TempDir(), "missing.hcl"))
	require.ErrorContains(t, err, "read config template: open ")
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in     string
		exp    target
		expErr string
	}{
		{in: "plain=gw.hcl:/plain", exp: target{Name: "plain", Template: "gw.hcl", Path: "/plain"}},
		{in: "plain=gw.hcl", exp: target{Name: "plain", Template: "gw.hcl", Path: "/"}},
		{in: "q=dir/gw.hcl:/a/b?size=4096", exp: target{Name: "q", Template: "dir/gw.hcl", Path: "/a/b?size=4096"}},
		{in: "b=builtin:gateway.hcl:/mock", exp: target{Name: "b", Template: "builtin:gateway.hcl", Path: "/mock"}},
		{in: "b=builtin:gateway.hcl", exp: target{Name: "b", Template: "builtin:gateway.hcl", Path: "/"}},
		{in: "gw.hcl", expErr: `--target "gw.hcl": want name=template.hcl[:/path], e.g. plain=cmd/loadbench/testdata/gateway.hcl:/plain`},
		{in: "=gw.hcl", expErr: `--target "=gw.hcl": want name=template.hcl[:/path], e.g. plain=cmd/loadbench/testdata/gateway.hcl:/plain`},
		{in: "x=:/p", expErr: `--target "x=:/p": the template path is empty; want name=template.hcl[:/path]`},
		{in: "direct=gw.hcl", expErr: `--target "direct=gw.hcl": the name "direct" is reserved for the built-in baseline; choose another`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTarget(tc.in)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, got)
		})
	}
}
