package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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

// benchPlugin serves requests carrying tok through one plugin on the real host.
func benchPlugin(b *testing.B, dir, cfg, tok string) {
	h, err := wasm.New(b.Context(), wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(b, err)
	b.Cleanup(func() { _ = h.Close(context.WithoutCancel(b.Context())) })
	p, err := h.Load(b.Context(), &config.Plugin{Name: "p", Source: wasmtest.Build(b, dir), ConfigJSON: []byte(cfg),
		Timeout: time.Second, PoolSize: 2, MemoryBytes: 64 << 20, OnError: config.OnErrorDeny})
	require.NoError(b, err)
	c := pipeline.New([]pipeline.Plugin{p}, pipeline.Options{})
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := &discardWriter{h: http.Header{}}
	rec := httptest.NewRecorder()
	c.Handle(rec, r, &pipeline.Request{}, noContent)
	require.Equal(b, 204, rec.Code, "the benchmark request must be authorized")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		c.Handle(w, r, &pipeline.Request{}, noContent)
	}
}

// BenchmarkRequests is one request through jwt-auth (RS256, 2048-bit key) on
// the real host: signature checked by the host's crypto_verify, or by Go's
// crypto in the guest, each with the verified-token cache off; then with the
// cache on (a client reusing its token), against a no-op Go plugin.
func BenchmarkRequests(b *testing.B) {
	k := genKeys()
	tok := sign(b, jwt.SigningMethodRS256, k.rsa, "rsa", valid(time.Now()))
	cfg := func(crypto string, cache int) string {
		return jsonOf(b, map[string]any{"crypto": crypto, "cache_size": cache,
			"keys": []map[string]any{{"kid": "rsa", "pem": pemOf(b, &k.rsa.PublicKey)}}})
	}
	b.Run("noop", func(b *testing.B) { benchPlugin(b, "../../host/wasm/testdata/plugins/noop", "", tok) })
	b.Run("jwt-RS256-host", func(b *testing.B) { benchPlugin(b, ".", cfg("host", -1), tok) })
	b.Run("jwt-RS256-guest", func(b *testing.B) { benchPlugin(b, ".", cfg("guest", -1), tok) })
	b.Run("jwt-RS256-host-cached", func(b *testing.B) { benchPlugin(b, ".", cfg("host", 0), tok) })
}
