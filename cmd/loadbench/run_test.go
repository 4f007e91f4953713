package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
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
	}, &stderr)
	require.NoError(t, err)
	require.NoError(t, runBench(t.Context(), o, &stdout, &stderr), stderr.String())

	out := stdout.String()
	assert.Contains(t, out, "| target | req/s (median) | p50 | p99 | errors | non-2xx | req/s vs bareproxy | p99 vs bareproxy | peak RSS |")
	for _, name := range []string{"direct", "bareproxy", "gateway-proxy", "gateway-mock"} {
		assert.Contains(t, out, "| "+name+" | ")
	}
	assert.Contains(t, out, "| bareproxy | ")
	assert.Contains(t, out, "| gateway-1 | 50 | 0 |", "one idle row per server process")
	assert.Equal(t, 2, strings.Count(stderr.String(), "round 2 gateway-"), stderr.String())

	b, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var rep report
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Targets, 4)
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
