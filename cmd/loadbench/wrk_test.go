package main

import (
	"os"
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
