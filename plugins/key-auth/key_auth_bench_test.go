package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

var noContent = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })

func benchPlugin(b *testing.B, dir, cfg string) {
	h, err := wasm.New(b.Context(), wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(b, err)
	b.Cleanup(func() { _ = h.Close(context.WithoutCancel(b.Context())) })
	p, err := h.Load(b.Context(), &config.Plugin{Name: "p", Source: wasmtest.Build(b, dir), ConfigJSON: []byte(cfg),
		Timeout: time.Second, PoolSize: 2, MemoryBytes: 64 << 20, OnError: config.OnErrorDeny})
	require.NoError(b, err)
	c := pipeline.New([]pipeline.Plugin{p}, pipeline.Options{})
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("X-Api-Key", acmeKey)
	rec := httptest.NewRecorder()
	c.Handle(rec, r, &pipeline.Request{}, noContent)
	require.Equal(b, 204, rec.Code, "the benchmark request must be authorized")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		c.Handle(w, r, &pipeline.Request{}, noContent)
	}
}

// BenchmarkRequests is one request through key-auth (100 keys configured) on
// the real host, against a no-op Go plugin.
func BenchmarkRequests(b *testing.B) {
	keys := []map[string]any{{"consumer": "acme", "key_sha256": hash(acmeKey), "metadata": map[string]string{"plan": "gold"}}}
	for i := range 99 {
		keys = append(keys, map[string]any{"consumer": "c", "key_sha256": hash(acmeKey + string(rune('a'+i%26)) + string(rune('a'+i/26)))})
	}
	cfg := jsonOf(b, map[string]any{"keys": keys, "metadata_headers": map[string]string{"plan": "X-Plan"}})
	b.Run("noop", func(b *testing.B) { benchPlugin(b, "../../host/wasm/testdata/plugins/noop", "") })
	b.Run("key-auth", func(b *testing.B) { benchPlugin(b, ".", cfg) })
}
