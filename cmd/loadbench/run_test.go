package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setChildRole makes the processes runBench starts re-execute this test binary
// in the role of loadbench or the gateway.
func setChildRole(t *testing.T) {
	t.Helper()
	t.Setenv(envChildRole, "1")
	// A race-enabled child otherwise sleeps a second before it exits.
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

func TestRunBench(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	setChildRole(t)
	self, err := os.Executable()
	require.NoError(t, err)
	jsonPath := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	o, err := parseRunFlags([]string{
		"--gateway", self, "--rounds", "2", "--duration", "150ms", "--warmup", "0", "--conns", "4",
		"--idle", "50", "--json", jsonPath,
		"--target", "gateway-proxy=builtin:gateway.hcl:/plain", "--target", "gateway-mock=builtin:gateway.hcl:/mock",
		// The stand-in gateway answers 400 unless it gets a POST of this body.
		"--target", "validated=builtin:validation.hcl:/validated/7", "--body", "validated=builtin:order2k.json",
		"--body", "direct=builtin:order2k.json",
		"--compare", "gateway-mock/gateway-proxy",
	}, &stderr)
	require.NoError(t, err)
	require.NoError(t, runBench(t.Context(), o, &stdout, &stderr), stderr.String())

	out := stdout.String()
	assert.Contains(t, out, "| target | req/s (median) | p50 | p99 | errors | non-2xx | req/s vs bareproxy | p99 vs bareproxy | peak RSS |")
	for _, name := range []string{"direct", "bareproxy", "gateway-proxy", "gateway-mock", "validated"} {
		assert.Contains(t, out, "| "+name+" | ")
	}
	assert.Contains(t, out, "| bareproxy | ")
	assert.Contains(t, out, "| gateway-1 | 50 | 0 |", "one idle row per server process")
	assert.Contains(t, out, "| gateway-2 | 50 | 0 |", "idle connections POST the body too")
	assert.Contains(t, out, "direct POSTs builtin:order2k.json (1954 bytes); validated POSTs builtin:order2k.json (1954 bytes).")
	assert.Equal(t, 2, strings.Count(stderr.String(), "round 2 gateway-"), stderr.String())
	assert.Contains(t, out, "| comparison | ratio of medians | median of round ratios | round ratios |")
	assert.Contains(t, out, "| gateway-mock / gateway-proxy | ")

	b, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var rep report
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Targets, 5)
	for _, tr := range rep.Targets {
		assert.Len(t, tr.RoundsRPS, 2, tr.Name)
		assert.Positive(t, tr.Requests, tr.Name)
		assert.Zero(t, tr.Errors, "%s: %s", tr.Name, tr.FirstError)
		assert.Zero(t, tr.Non2xx, tr.Name)
		assert.LessOrEqual(t, tr.P50Ms, tr.P99Ms, tr.Name)
		assert.Positive(t, tr.PeakRSS, tr.Name)
		assert.Positive(t, tr.RPSRatio, tr.Name)
	}
	assert.InDelta(t, 1.0, rep.Targets[1].RPSRatio, 1e-9, "bareproxy against itself")
	assert.Equal(t, "gateway-1", rep.Targets[2].Process)
	assert.Equal(t, "gateway-1", rep.Targets[3].Process, "targets sharing a template share a gateway")
	assert.Equal(t, "gateway-2", rep.Targets[4].Process)
	for i, exp := range []string{"builtin:order2k.json", "", "", "", "builtin:order2k.json"} {
		assert.Equal(t, exp, rep.Targets[i].Body, rep.Targets[i].Name)
	}
	require.Len(t, rep.Comparisons, 1)
	c := rep.Comparisons[0]
	assert.Equal(t, "gateway-mock", c.A)
	assert.Equal(t, "gateway-proxy", c.B)
	assert.InDelta(t, rep.Targets[3].RPS/rep.Targets[2].RPS, c.Ratio, 1e-9)
	require.Len(t, c.Rounds, 2)
	for r := range 2 {
		assert.InDelta(t, rep.Targets[3].RoundsRPS[r]/rep.Targets[2].RoundsRPS[r], c.Rounds[r], 1e-9, "round %d", r)
	}
	assert.InDelta(t, (c.Rounds[0]+c.Rounds[1])/2, c.RoundsMedian, 1e-9)
	require.Contains(t, rep.Idle, "gateway-1")
	assert.Equal(t, 50, rep.Idle["gateway-1"].Conns)

	// Every child is gone: nothing listens on their addresses any more.
	for _, tr := range rep.Targets {
		u := mustURL(tr.URL)
		c, err := net.DialTimeout("tcp", u.Host, time.Second)
		if err == nil {
			c.Close()
		}
		assert.ErrorIs(t, err, syscall.ECONNREFUSED, "%s still listens on %s", tr.Name, u.Host)
	}
}

func TestRunBenchGatewayThatFailsToStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	setChildRole(t)
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "bad.hcl")
	// The stand-in gateway exits at once on a config without an upstream.
	require.NoError(t, os.WriteFile(tmpl, []byte(`gateway { listen = ["${LISTEN}"] }`), 0o644))
	self, err := os.Executable()
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	o, err := parseRunFlags([]string{"--gateway", self, "--target", "bad=" + tmpl + ":/plain", "--duration", "50ms"}, &stderr)
	require.NoError(t, err)
	err = runBench(t.Context(), o, &stdout, &stderr)
	require.ErrorContains(t, err, "target bad: gateway-1 exited before answering 200 on http://")
	assert.ErrorContains(t, err, "fake gateway: no listen or targets in the config", "the error quotes the gateway's log")
	assert.Empty(t, stdout.String())
}

func TestParseRunFlags(t *testing.T) {
	order, err := readBody(builtinPrefix + "order2k.json")
	require.NoError(t, err)
	dir := t.TempDir()
	bodyPath := filepath.Join(dir, "b.json")
	require.NoError(t, os.WriteFile(bodyPath, []byte(`{"x":1}`), 0o644))
	emptyPath := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(emptyPath, nil, 0o644))
	twoTargets := []string{"--gateway", "g", "--target", "v=builtin:validation.hcl:/validated/7", "--target", "p=x.hcl:/plain/7"}
	tests := []struct {
		name   string
		in     []string
		expErr string
		check  func(t *testing.T, o *runOptions)
	}{
		{
			name: "defaults without a gateway",
			in:   nil,
			check: func(t *testing.T, o *runOptions) {
				assert.Equal(t, 3, o.Rounds)
				assert.Equal(t, 5*time.Second, o.Duration)
				assert.Equal(t, time.Second, o.Warmup)
				assert.Equal(t, 64, o.Conns)
				assert.Empty(t, o.Targets)
			},
		},
		{
			name: "a gateway without targets gets the built-in ones",
			in:   []string{"--gateway", "bin/gateway"},
			check: func(t *testing.T, o *runOptions) {
				assert.Equal(t, []target{
					{Name: "gateway-proxy", Template: "builtin:gateway.hcl", Path: "/plain"},
					{Name: "gateway-mock", Template: "builtin:gateway.hcl", Path: "/mock"},
				}, o.Targets)
			},
		},
		{
			name:   "targets need a gateway",
			in:     []string{"--target", "a=x.hcl"},
			expErr: "--target needs --gateway PATH (build it with make gateway)",
		},
		{
			name:   "duplicate target names",
			in:     []string{"--gateway", "g", "--target", "a=x.hcl", "--target", "a=y.hcl"},
			expErr: `--target "a=y.hcl": the name "a" is used twice; give each target its own name`,
		},
		{
			name: "bodies for gateway and baseline targets",
			in:   append(slices.Clone(twoTargets), "--body", "v=builtin:order2k.json", "--body", "bareproxy="+bodyPath),
			check: func(t *testing.T, o *runOptions) {
				assert.Equal(t, map[string]bodyFile{
					"v":         order,
					"bareproxy": {Source: bodyPath, Data: []byte(`{"x":1}`)},
				}, o.Bodies)
				require.Len(t, o.Targets, 2)
			},
		},
		{
			name: "comparisons",
			in:   append(slices.Clone(twoTargets), "--compare", "v/p", "--compare", "p/bareproxy"),
			check: func(t *testing.T, o *runOptions) {
				assert.Equal(t, []comparePair{{A: "v", B: "p"}, {A: "p", B: "bareproxy"}}, o.Compare)
			},
		},
		{
			name:   "a comparison of an unknown target",
			in:     append(slices.Clone(twoTargets), "--compare", "v/nope"),
			expErr: `--compare "v/nope": want A/B, two different target names among direct, bareproxy, v, p`,
		},
		{
			name:   "a comparison without a slash",
			in:     append(slices.Clone(twoTargets), "--compare", "v"),
			expErr: `--compare "v": want A/B, two different target names among direct, bareproxy, v, p`,
		},
		{
			name: "no body, no POST",
			in:   twoTargets,
			check: func(t *testing.T, o *runOptions) {
				assert.Empty(t, o.Bodies)
			},
		},
		{
			name: "a body for a default target",
			in:   []string{"--gateway", "g", "--body", "gateway-mock=builtin:order2k.json"},
			check: func(t *testing.T, o *runOptions) {
				assert.Equal(t, map[string]bodyFile{"gateway-mock": order}, o.Bodies)
			},
		},
		{
			name:   "a body for an unknown target",
			in:     append(slices.Clone(twoTargets), "--body", "validated=builtin:order2k.json"),
			expErr: `--body "validated=builtin:order2k.json": there is no target "validated"; the targets are direct, bareproxy, v, p`,
		},
		{
			name:   "a body without a name",
			in:     append(slices.Clone(twoTargets), "--body", "builtin:order2k.json"),
			expErr: `--body "builtin:order2k.json": want name=FILE or name=builtin:NAME, e.g. validated=builtin:order2k.json`,
		},
		{
			name:   "a body without a file",
			in:     append(slices.Clone(twoTargets), "--body", "v="),
			expErr: `--body "v=": want name=FILE or name=builtin:NAME, e.g. validated=builtin:order2k.json`,
		},
		{
			name:   "two bodies for one target",
			in:     append(slices.Clone(twoTargets), "--body", "v=builtin:order2k.json", "--body", "v="+bodyPath),
			expErr: `--body "v=` + bodyPath + `": target "v" already has a body`,
		},
		{
			name:   "a missing built-in body",
			in:     append(slices.Clone(twoTargets), "--body", "v=builtin:order.json"),
			expErr: `--body "v=builtin:order.json": read built-in request body "order.json": open testdata/order.json: file does not exist; the built-in ones are in cmd/loadbench/testdata`,
		},
		{
			name:   "an empty body file",
			in:     append(slices.Clone(twoTargets), "--body", "p="+emptyPath),
			expErr: `--body "p=` + emptyPath + `": request body ` + emptyPath + ` is empty`,
		},
		{
			name:   "bad numbers",
			in:     []string{"--rounds", "0"},
			expErr: "need --rounds >= 1, --duration > 0, --conns >= 1, --warmup >= 0 and --idle >= 0",
		},
		{
			name:   "stray arguments",
			in:     []string{"bin/gateway"},
			expErr: `unexpected arguments ["bin/gateway"]; every option is a --flag (see loadbench run -h)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			o, err := parseRunFlags(tc.in, &stderr)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, o)
		})
	}
}
