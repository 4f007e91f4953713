package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// upstream echoes the body and the forwarded key so tests see what passed.
var upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Saw-Key", r.Header.Get("X-Consumer-Key"))
	w.WriteHeader(200)
	_, _ = io.Copy(w, r.Body)
})

func pluginCfg(t testing.TB, dir, cfg string) *config.Plugin {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin to wasm; skipped with -short")
	}
	return &config.Plugin{Name: "hmac-auth", Source: wasmtest.Build(t, dir), ConfigJSON: []byte(cfg), Timeout: 2 * time.Second, PoolSize: 2}
}

func newGateway(t testing.TB, dir, cfg string) *wasmtest.Gateway {
	t.Helper()
	store := kv.NewMemory()
	t.Cleanup(func() { _ = store.Close() })
	return wasmtest.New(t, wasm.Options{KV: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, upstream, pluginCfg(t, dir, cfg))
}

// newSigned is a POST signed now (the real clock: the host's time_now_ns).
func newSigned(body string, mutate func(r *http.Request)) *http.Request {
	r := httptest.NewRequest("POST", "http://api.example.com/v1/items?b=2&a=1", bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", "application/json")
	if mutate != nil {
		mutate(r)
	}
	SignRequest(r, []byte(body), testKey, testSecret, testScope, time.Now(), false)
	return r
}

func TestThroughRealHost(t *testing.T) {
	g := newGateway(t, ".", testCfg)

	in := &pipeline.Request{}
	r := newSigned(`{"n":1}`, func(r *http.Request) { r.Header.Set("X-Consumer-Key", "spoofed") })
	replay := r.Clone(context.WithoutCancel(t.Context()))
	w := g.Do(r, in)
	require.Equal(t, 200, w.Code, w.Body.String())
	assert.Equal(t, `{"n":1}`, w.Body.String(), "body reaches the upstream")
	assert.Equal(t, testKey, w.Header().Get("X-Saw-Key"))
	assert.Equal(t, testKey, in.Properties["auth.principal"])

	replay.Body = io.NopCloser(bytes.NewReader([]byte(`{"n":1}`)))
	w = g.Do(replay, &pipeline.Request{})
	assert.Equal(t, 401, w.Code, "replayed through the shared KV")
	assert.JSONEq(t, `{"message":"Unauthorized"}`, w.Body.String())

	r = newSigned(`{"n":2}`, nil)
	r.Body = io.NopCloser(bytes.NewReader([]byte(`{"n":3}`)))
	w = g.Do(r, &pipeline.Request{})
	assert.Equal(t, 401, w.Code, "tampered body")

	r = httptest.NewRequest("GET", "http://api.example.com/", nil)
	SignRequest(r, nil, testKey, testSecret, testScope, time.Now().Add(-10*time.Minute), false)
	w = g.Do(r, &pipeline.Request{})
	assert.Equal(t, 401, w.Code, "expired")

	r = httptest.NewRequest("GET", "http://api.example.com/", nil)
	SignRequest(r, nil, testKey, testSecret, testScope, time.Now(), false)
	w = g.Do(r, &pipeline.Request{})
	assert.Equal(t, 200, w.Code, "GET without body")
}

func TestReplayProtectionNeedsKV(t *testing.T) {
	cfg := pluginCfg(t, ".", testCfg)
	h, err := wasm.New(t.Context(), wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close(context.WithoutCancel(t.Context())) })
	_, err = h.Load(t.Context(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replay_protection needs the gateway's shared KV store, which is not configured")
}
