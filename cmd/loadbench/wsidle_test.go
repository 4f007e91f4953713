package main

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSettled(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name string
		in   []int64
		exp  bool
	}{
		{name: "flat", in: []int64{200 * mib, 200 * mib, 200 * mib}, exp: true},
		{name: "within 1%", in: []int64{199 * mib, 200 * mib, 201 * mib}, exp: true},
		{name: "still growing", in: []int64{190 * mib, 195 * mib, 200 * mib}},
		{name: "small process within 256 KiB", in: []int64{10 * mib, 10*mib + 256<<10}, exp: true},
		{name: "small process beyond 256 KiB", in: []int64{10 * mib, 10*mib + 257<<10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, settled(tc.in))
		})
	}
}

func TestWriteWSIdle(t *testing.T) {
	const mib = 1 << 20
	full := &wsIdleResult{
		Path: "/ws/fn", Conns: 10000, Failed: 2, FirstError: "handshake with 127.0.0.1:1: connect: refused", Gauge: 10000,
		RSSBefore: 70 * mib, RSSAfter: 200 * mib, RSSPerConn: 130 * mib / 10000,
		RSSSamples: []int64{200 * mib, 200 * mib}, Settled: true,
		Stats: []statDelta{
			{Name: "goroutines", Before: 11, After: 10011},
			{Name: "HeapInuse", Before: 26 * mib, After: 96 * mib, Bytes: true},
		},
		HeapRate:   524288,
		HeapSites:  []siteCost{{Site: "bufio.NewWriterSize ← wsapi.(*hijackWriter).Hijack", PerConn: 2355.4}},
		Goroutines: []siteCost{{Site: "wsapi.(*Hub).serve", PerConn: 1}},
	}
	exp := `
WebSocket idle connections to /ws/fn: 10000 open (2 failed), the gateway's gateway_websocket_connections = 10000.
First failure: handshake with 127.0.0.1:1: connect: refused

| gateway | before | with 10000 open | per connection |
|---|--:|--:|--:|
| VmRSS | 70.0 MiB | 200.0 MiB | 13.3 KiB |
| goroutines | 11 | 10011 | 1.00 |
| HeapInuse | 26.0 MiB | 96.0 MiB | 7.2 KiB |

VmRSS samples with the connections open: 200.0 MiB, 200.0 MiB (settled).
MemStats rows are read after a GC (heap?gc=1), once VmRSS has been sampled.

| heap allocation site (in use, sampled every 512.0 KiB and scaled, so approximate; GODEBUG=memprofilerate=1 makes it exact) | per connection |
|---|--:|
| bufio.NewWriterSize ← wsapi.(*hijackWriter).Hijack | 2.3 KiB |

| goroutine started in | per connection |
|---|--:|
| wsapi.(*Hub).serve | 1.00 |
`
	tests := []struct {
		name string
		in   *wsIdleResult
		exp  string
	}{
		{name: "with heap figures", in: full, exp: exp},
		{
			name: "without heap figures, not settled",
			in: &wsIdleResult{
				Path: "/ws/fn", Conns: 100, Gauge: 100, RSSBefore: 10 * mib, RSSAfter: 11 * mib, RSSPerConn: mib / 100,
				RSSSamples: []int64{11 * mib}, HeapNote: "heap figures skipped (--heap=false)",
			},
			exp: `
WebSocket idle connections to /ws/fn: 100 open (0 failed), the gateway's gateway_websocket_connections = 100.

| gateway | before | with 100 open | per connection |
|---|--:|--:|--:|
| VmRSS | 10.0 MiB | 11.0 MiB | 10.2 KiB |

VmRSS samples with the connections open: 11.0 MiB (NOT settled within the time allowed (--settle)).
heap figures skipped (--heap=false).
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			writeWSIdle(&b, tc.in)
			assert.Equal(t, tc.exp, b.String())
		})
	}
}

func TestWSIdle(t *testing.T) {
	var res wsIdleResult
	out := runWithFakeGateway(t, &res, "wsidle", "--conns", "50", "--settle", "5s", "--interval", "10ms")
	assert.Contains(t, out, "WebSocket idle connections to /ws/fn: 50 open (0 failed), the gateway's gateway_websocket_connections = 50.")
	assert.Equal(t, 50, res.Conns)
	assert.InDelta(t, 50, res.Gauge, 0)
	assert.Positive(t, res.RSSBefore)
	assert.NotEmpty(t, res.RSSSamples)
	require.NotEmpty(t, res.Stats)
	assert.Equal(t, "goroutines", res.Stats[0].Name)
	assert.GreaterOrEqual(t, res.Stats[0].After-res.Stats[0].Before, int64(50), "a goroutine per connection in the fake gateway")
	assert.NotEmpty(t, res.Goroutines)
}

func TestWSIdleRefused(t *testing.T) {
	// Nothing listens on the address: every connection fails and says why.
	cfg := &wsIdleConfig{Addr: freeAddrT(t), Path: "/ws", PID: os.Getpid(), Conns: 3, Settle: time.Second, Interval: time.Millisecond}
	_, err := runWSIdle(t.Context(), cfg)
	require.ErrorContains(t, err, "none of the 3 connections to /ws opened: connect to "+cfg.Addr+": ")
}

func freeAddrT(t *testing.T) string {
	t.Helper()
	a, err := freeAddr()
	require.NoError(t, err)
	return a
}
