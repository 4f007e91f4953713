package main

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseWrkOutput(t *testing.T) {
	out, err := os.ReadFile(filepath.Join("testdata", "wrk-latency.txt"))
	require.NoError(t, err)
	got, err := parseWrkOutput(string(out))
	require.NoError(t, err)
	assert.Equal(t, &wrkResult{
		Requests: 228983,
		Elapsed:  3010 * time.Millisecond,
		RPS:      76085.97,
		P50:      657 * time.Microsecond,
		P99:      6770 * time.Microsecond,
		Errors:   10,
		Non2xx:   17,
	}, got)

	_, err = parseWrkOutput("Running 5s test @ http://x/\n  10 requests in 1.00s, 1KB read\nRequests/sec: 10.0\n")
	require.EqualError(t, err, "missing the request count, Requests/sec or the 50%/99% latency lines (was --latency given?)")
}

func TestWrkPostScript(t *testing.T) {
	tests := []struct {
		name string
		body string
		exp  string
	}{
		{name: "json", body: `{"a":"b"}`, exp: `wrk.body = "{\034a\034:\034b\034}"`},
		{name: "escapes", body: "\\\n\x00\xffé9", exp: `wrk.body = "\092\010\000\255\195\1699"`},
		{name: "lua brackets are plain", body: "]]=[[", exp: `wrk.body = "]]=[["`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := wrkPostScript([]byte(tc.body))
			assert.Equal(t, "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"+tc.exp+"\n", got)
		})
	}
}

// TestRunWrkPost checks, with wrk from PATH, that the script POSTs the body
// byte for byte.
func TestRunWrkPost(t *testing.T) {
	if testing.Short() {
		t.Skip("runs wrk for a second")
	}
	wrkPath, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not on PATH")
	}
	body := []byte("{\"n\":\"\\\\ \\\"q\\\" é\"}\n\x00\xff")
	srv := httptest.NewServer(postChecker(body))
	defer srv.Close()
	script := filepath.Join(t.TempDir(), "post.lua")
	require.NoError(t, os.WriteFile(script, []byte(wrkPostScript(body)), 0o644))
	res, err := runWrk(t.Context(), wrkPath, srv.URL+"/orders/7", script, 1, 2, time.Second, 5*time.Second)
	require.NoError(t, err)
	assert.Positive(t, res.Requests)
	assert.Zero(t, res.Non2xx, "the server saw a POST of the body")
	assert.Zero(t, res.Errors)
}
