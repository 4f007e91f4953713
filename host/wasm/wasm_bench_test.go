package wasm_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
)

var trivial = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchChain(b *testing.B, sources ...string) {
	b.Helper()
	h := newHost(b, wasm.Options{})
	var ps []pipeline.Plugin
	for i, src := range sources {
		p, err := h.Load(b.Context(), pluginCfg("p"+string(rune('a'+i)), src))
		require.NoError(b, err)
		ps = append(ps, p)
	}
	c := pipeline.New(ps, pipeline.Options{})
	r := httptest.NewRequest("GET", "/users/1", nil)
	r.Header.Set("X-A", "some-value")
	w := &discardWriter{h: http.Header{}}
	in := &pipeline.Request{RequestID: "r"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		c.Handle(w, r, in, trivial)
	}
}

// BenchmarkChain measures a whole request through chains of no-op plugins,
// against no chain at all; the difference is the per-plugin overhead.
func BenchmarkChain(b *testing.B) {
	b.Run("none", func(b *testing.B) { benchChain(b) })
	b.Run("wat-noop-1", func(b *testing.B) { benchChain(b, watPlugin(b, "noop")) })
	b.Run("wat-noop-3", func(b *testing.B) {
		s := watPlugin(b, "noop")
		benchChain(b, s, s, s)
	})
	b.Run("go-noop-1", func(b *testing.B) { benchChain(b, goPlugin(b, "noop")) })
	b.Run("go-noop-3", func(b *testing.B) {
		s := goPlugin(b, "noop")
		benchChain(b, s, s, s)
	})
	// One header_get plus one header_set per request.
	b.Run("wat-header-get-set", func(b *testing.B) { benchChain(b, watPlugin(b, "headers")) })
}
