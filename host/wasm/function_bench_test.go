package wasm_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/wasm"
)

// warmCalls is how many calls benchFunction makes before it measures.
const warmCalls = 20000

func benchFunction(b *testing.B, src string, soft bool) {
	h := newHost(b, wasm.Options{})
	f, err := h.LoadFunction(b.Context(), &config.Function{Name: "bench", Source: src, ConfigJSON: []byte("{}"), MinWarm: 1, SoftTimeout: soft})
	require.NoError(b, err)
	ev := event("/hello", "")
	if f.Packed() {
		ev = packedEvent("/hello", "")
	}
	// Warm up first: a new instance's first calls fault in the pages its
	// guest heap grows into (and a Go guest's heap grows for thousands of
	// calls before its first collection), which is a cold start's cost, not
	// a warm invocation's.
	for range warmCalls {
		if _, err := f.Invoke(b.Context(), ev, nil); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := f.Invoke(b.Context(), ev, nil); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkFunctionInvoke measures one warm invocation: acquire, handle_event,
// response decode, with the event encoded as the gateway would (packed for a
// Go SDK function). wat-hello is the host overhead alone; go-sdk adds a Go
// guest decoding the event and encoding a response. "soft" is strict_timeout
// = false: the same instrumented module, with its interrupt flag never armed.
func BenchmarkFunctionInvoke(b *testing.B) {
	b.Run("wat-hello", func(b *testing.B) { benchFunction(b, watPlugin(b, "fn_hello"), false) })
	b.Run("go-sdk", func(b *testing.B) { benchFunction(b, goFunction(b), false) })
	b.Run("go-sdk-soft", func(b *testing.B) { benchFunction(b, goFunction(b), true) })
}
