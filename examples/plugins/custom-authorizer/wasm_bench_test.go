package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wasmgate/gateway/host/pipeline"
)

// noopDir is the host's no-op Go test plugin, the baseline.
const noopDir = "../../../host/wasm/testdata/plugins/noop"

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkAuthorizer is one request through the plugin with the decision
// cached in the KV (the steady state), and with the cache off (one loopback
// HTTP call to the auth service per request), against the no-op plugin.
func BenchmarkAuthorizer(b *testing.B) {
	srv, _ := newAuthService(b)
	targets := map[string]string{"auth": srv.URL}
	bench := func(b *testing.B, dir, cfg string) {
		g := newGateway(b, dir, cfg, targets)
		r := httptest.NewRequest("GET", "/orders", nil)
		r.Header.Set("Authorization", "Bearer good")
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			clear(w.h)
			g.Chain.Handle(w, r, &pipeline.Request{}, upstream)
		}
	}
	b.Run("noop", func(b *testing.B) { bench(b, noopDir, "") })
	b.Run("cached", func(b *testing.B) { bench(b, ".", `{"upstream":"auth"}`) })
	b.Run("uncached", func(b *testing.B) { bench(b, ".", `{"upstream":"auth","cache_ttl":"0s"}`) })
}
