package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wasmgate/gateway/host/pipeline"
)

// noopDir is the host's no-op Go test plugin, the baseline.
const noopDir = "../../host/wasm/testdata/plugins/noop"

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchPlugin(b *testing.B, dir, cfg string, r *http.Request) {
	g := newGateway(b, pluginCfg(b, "p", dir, cfg))
	w := &discardWriter{h: http.Header{}}
	in := &pipeline.Request{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		g.Chain.Handle(w, r, in, upstream)
	}
}

// BenchmarkCORS is one request through the plugin against the no-op plugin:
// an actual cross-origin GET and a preflight.
func BenchmarkCORS(b *testing.B) {
	get := httptest.NewRequest("GET", "/", nil)
	get.Header.Set("Origin", "https://api.example.com")
	pre := httptest.NewRequest("OPTIONS", "/", nil)
	pre.Header.Set("Origin", "https://api.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	b.Run("noop", func(b *testing.B) { benchPlugin(b, noopDir, "", get) })
	b.Run("actual", func(b *testing.B) { benchPlugin(b, ".", credCfg, get) })
	b.Run("preflight", func(b *testing.B) { benchPlugin(b, ".", credCfg, pre) })
}
