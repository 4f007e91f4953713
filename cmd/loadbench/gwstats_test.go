package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const metricsText = `# HELP gateway_websocket_connections Open WebSocket connections of managed APIs on this instance.
# TYPE gateway_websocket_connections gauge
gateway_websocket_connections{api="fn"} 10000
gateway_websocket_connections{api="up\"stream",zone="a"} 3
gateway_websocket_connections{api="up\"stream",zone="b"} 4
gateway_websocket_connections_total{api="fn"} 99
gateway_websocket_connections_bad{api="fn" 1
gateway_requests 12.5 1700000000000
`

func TestMetricValue(t *testing.T) {
	tests := []struct {
		name   string
		metric string
		match  map[string]string
		exp    float64
		expOK  bool
	}{
		{name: "one sample", metric: wsConnGauge, match: map[string]string{"api": "fn"}, exp: 10000, expOK: true},
		{name: "sum of the matching samples", metric: wsConnGauge, match: map[string]string{"api": `up"stream`}, exp: 7, expOK: true},
		{name: "every sample", metric: wsConnGauge, exp: 10007, expOK: true},
		{name: "no label set, with a timestamp", metric: "gateway_requests", exp: 12.5, expOK: true},
		{name: "no match", metric: wsConnGauge, match: map[string]string{"api": "chat"}},
		{name: "a name that only starts the same", metric: "gateway_websocket_connections_bad"},
		{name: "absent", metric: "gateway_nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := metricValue([]byte(metricsText), tc.metric, tc.match)
			assert.Equal(t, tc.expOK, ok)
			assert.InDelta(t, tc.exp, v, 1e-9)
		})
	}
}

// heapText is a trimmed /debug/pprof/heap?debug=1 of a Go 1.26 process.
const heapText = "heap profile: 3: 8672 [5: 9000] @ heap/1048576\n" +
	"1: 480 [1: 480] @ 0x487765 0x423605 0x45d425 0x45d699\n" +
	"#\t0x487764\truntime.mallocgc+0xa4\t\t/usr/local/go/src/runtime/malloc.go:1150\n" +
	"#\t0x423604\truntime.newobject+0x24\t\t/usr/local/go/src/runtime/malloc.go:2157\n" +
	"#\t0x45d424\truntime.malg+0x24\t\t/usr/local/go/src/runtime/proc.go:5274\n" +
	"#\t0x45d698\truntime.newproc1+0x78\t\t/usr/local/go/src/runtime/proc.go:5322\n" +
	"\n" +
	"2: 8192 [4: 16384] @ 0x48778c 0x48bca9 0x673032\n" +
	"#\t0x673031\tbufio.NewWriterSize+0x51\t\t/usr/local/go/src/bufio/bufio.go:599\n" +
	"#\t0x673032\tgithub.com/wasmgate/gateway/host/wsapi.(*hijackWriter).Hijack+0x11\t/w/host/wsapi/conn.go:172\n" +
	"#\t0x673033\tgithub.com/coder/websocket.accept+0x22\t/m/accept.go:150\n" +
	"#\t0x673034\tgithub.com/coder/websocket.Accept+0x33\t/m/accept.go:80\n" +
	"\n" +
	"0: 0 [1: 64] @ 0x48778c\n" +
	"#\t0x673031\tmain.main+0x51\t\t/tmp/pp.go:17\n" +
	"\n\n" +
	"# runtime.MemStats\n" +
	"# Alloc = 629480\n" +
	"# HeapInuse = 1220608\n" +
	"# HeapObjects = 696\n" +
	"# Stack = 294912 / 327680\n" +
	"# MSpan = 34240 / 48960\n" +
	"# PauseNs = [0 0 0]\n" +
	"# DebugGC = false\n"

func TestParseHeapProfile(t *testing.T) {
	p, err := parseHeapProfile([]byte(heapText))
	require.NoError(t, err)
	assert.EqualValues(t, 524288, p.Rate)
	assert.Equal(t, map[string]int64{
		"Alloc": 629480, "HeapInuse": 1220608, "HeapObjects": 696,
		"StackInuse": 294912, "StackSys": 327680, "MSpanInuse": 34240, "MSpanSys": 48960,
	}, p.MemStats)
	require.Len(t, p.Records, 3)
	assert.Equal(t, []string{"runtime.mallocgc", "runtime.newobject", "runtime.malg", "runtime.newproc1"}, p.Records[0].Frames)
	assert.Equal(t, "runtime.malg ← runtime.newproc1", heapSite(p.Records[0]))
	assert.Equal(t, "bufio.NewWriterSize ← wsapi.(*hijackWriter).Hijack ← websocket.accept", heapSite(p.Records[1]))
	c, b := scaleHeapSample(2, 8192, 524288)
	assert.InDelta(t, c, p.Records[1].Count, 1e-9)
	assert.InDelta(t, b, p.Records[1].Bytes, 1e-9)
	assert.Zero(t, p.Records[2].Bytes)

	_, err = parseHeapProfile([]byte("goroutine profile: total 5\n"))
	require.EqualError(t, err, `not a debug=1 heap profile: first line "goroutine profile: total 5"`)
	_, err = parseHeapProfile([]byte("heap profile: 1: 2 [3: 4] @ heap/1\nx: 1 [1: 1] @ 0x1\n"))
	require.ErrorContains(t, err, `heap profile record "x: 1 [1: 1] @ 0x1": `)
}

func TestScaleHeapSample(t *testing.T) {
	tests := []struct {
		name               string
		count, size, rate  int64
		expCount, expBytes float64
	}{
		{name: "exact profile", count: 3, size: 300, rate: 1, expCount: 3, expBytes: 300},
		{name: "empty", count: 0, size: 0, rate: 524288},
		// A 4 KiB object is sampled with probability 1-exp(-4096/524288).
		{name: "small objects", count: 1, size: 4096, rate: 524288,
			expCount: 1 / (1 - math.Exp(-4096.0/524288)), expBytes: 4096 / (1 - math.Exp(-4096.0/524288))},
		// Objects far larger than the rate are always sampled.
		{name: "huge objects", count: 2, size: 2 << 30, rate: 524288, expCount: 2, expBytes: 2 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, b := scaleHeapSample(tc.count, tc.size, tc.rate)
			assert.InDelta(t, tc.expCount, c, 1e-6)
			assert.InDelta(t, tc.expBytes, b, 1e-3)
		})
	}
}

// goroutineText is a trimmed /debug/pprof/goroutine?debug=1.
const goroutineText = "goroutine profile: total 12\n" +
	"10 @ 0x489aae 0x44c177\n" +
	"#\t0x488cc4\tinternal/poll.runtime_pollWait+0x84\t\t/usr/local/go/src/runtime/netpoll.go:351\n" +
	"#\t0x4cacc6\tgithub.com/wasmgate/gateway/host/wsapi.(*Hub).serve+0x26\t/w/host/wsapi/hub.go:84\n" +
	"\n" +
	"1 @ 0x489aae 0x4662c6 0x67322f 0x4911c1\n" +
	"# labels: {\"k\":\"v\"}\n" +
	"#\t0x673155\tmain.worker+0x175\t\t/tmp/pp.go:22\n" +
	"\n" +
	"1 @ 0x489aae\n" +
	"\n"

func TestParseGoroutineProfile(t *testing.T) {
	total, recs, err := parseGoroutineProfile([]byte(goroutineText))
	require.NoError(t, err)
	assert.Equal(t, 12, total)
	require.Len(t, recs, 3)
	assert.Equal(t, []string{"wsapi.(*Hub).serve", "main.worker", "?"},
		[]string{goroutineSite(recs[0]), goroutineSite(recs[1]), goroutineSite(recs[2])})
	assert.InDelta(t, 10, recs[0].Count, 0)

	_, _, err = parseGoroutineProfile([]byte("heap profile: 1: 2 [3: 4] @ heap/1\n"))
	require.EqualError(t, err, `not a debug=1 goroutine profile: first line "heap profile: 1: 2 [3: 4] @ heap/1"`)
}

func TestCostPerConn(t *testing.T) {
	rec := func(bytes float64, frames ...string) profileRecord {
		return profileRecord{Bytes: bytes, Frames: frames}
	}
	before := []profileRecord{rec(1000, "a"), rec(500, "b"), rec(300, "gone")}
	after := []profileRecord{rec(5000, "a"), rec(2000, "a"), rec(500, "b"), rec(4000, "c"), rec(10, "d")}
	value := func(r profileRecord) float64 { return r.Bytes }
	tests := []struct {
		name  string
		conns int
		n     int
		least float64
		exp   []siteCost
	}{
		{name: "largest first, shrunk and unchanged sites left out", conns: 2, n: 10, exp: []siteCost{{"a", 3000}, {"c", 2000}, {"d", 5}}},
		{name: "top n", conns: 2, n: 1, exp: []siteCost{{"a", 3000}}},
		{name: "below least", conns: 2, n: 10, least: 8, exp: []siteCost{{"a", 3000}, {"c", 2000}}},
		{name: "no connections", conns: 0, n: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, costPerConn(before, after, heapSite, value, tc.conns, tc.n, tc.least))
		})
	}
}
