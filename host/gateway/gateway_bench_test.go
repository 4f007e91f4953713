package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// newBenchGateway builds a gateway (no listeners) whose routes point at be.
func newBenchGateway(b *testing.B, be string) *Gateway {
	b.Helper()
	src := `
upstream "be" {
  targets = ["` + be + `"]
}
route "GET /users/{id}" {
  upstream      = upstream.be
  upstream_path = "/u/{id}"
}
route "GET /mock" {
  mock { body = "{\"ok\":true}" }
}
`
	cfg, diags := config.LoadBytes("bench.hcl", []byte(src))
	require.False(b, diags.HasErrors(), config.FormatDiagnostics(diags))
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := New(context.Background(), cfg, Options{Logger: discard, AccessLog: discard})
	require.NoError(b, err)
	b.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	return g
}

// BenchmarkServeMock is the gateway's own overhead: request id, normalisation,
// routing, metrics, access log, and a mock answer (no network).
func BenchmarkServeMock(b *testing.B) {
	g := newBenchGateway(b, "http://127.0.0.1:1")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/mock", nil)
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			g.ServeHTTP(w, req)
		}
	})
}

// BenchmarkServeProxy adds the upstream exchange over loopback.
func BenchmarkServeProxy(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42","name":"bench"}`)
	}))
	defer be.Close()
	g := newBenchGateway(b, be.URL)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/users/42", nil)
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			g.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
