package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

var upstream = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(200)
})

func newGateway(t testing.TB, plugins ...*config.Plugin) *wasmtest.Gateway {
	t.Helper()
	return wasmtest.New(t, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, upstream, plugins...)
}

func pluginCfg(t testing.TB, name, dir, cfg string) *config.Plugin {
	t.Helper()
	if testing.Short() {
		t.Skip("builds plugins to wasm; skipped with -short")
	}
	return &config.Plugin{Name: name, Source: wasmtest.Build(t, dir), ConfigJSON: []byte(cfg), Timeout: 2 * time.Second, PoolSize: 2}
}

// TestThroughRealHost runs cors in front of ip-restriction: the preflight is
// answered by cors, and ip-restriction's 403 still gets CORS headers because
// the response phases of earlier plugins run on a later plugin's local response.
func TestThroughRealHost(t *testing.T) {
	g := newGateway(t,
		pluginCfg(t, "cors", ".", credCfg),
		pluginCfg(t, "ip-restriction", "../ip-restriction", `{"allow":["10.0.0.0/8"]}`),
	)
	allowed := &pipeline.Request{ClientIP: "10.0.0.1"}

	r := httptest.NewRequest("OPTIONS", "/items", nil)
	r.Header.Set("Origin", "https://api.example.com")
	r.Header.Set("Access-Control-Request-Method", "DELETE")
	r.Header.Set("Access-Control-Request-Headers", "authorization")
	w := g.Do(r, &pipeline.Request{ClientIP: "192.0.2.1"})
	assert.Equal(t, 204, w.Code, "preflight answered before ip-restriction")
	assert.Equal(t, "https://api.example.com", w.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "GET, POST, DELETE", w.Header().Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "Authorization, Content-Type", w.Header().Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "600", w.Header().Get("Access-Control-Max-Age"))
	assert.Equal(t, "true", w.Header().Get("Access-Control-Allow-Credentials"))

	r = httptest.NewRequest("OPTIONS", "/items", nil)
	r.Header.Set("Origin", "https://evil-example.com")
	r.Header.Set("Access-Control-Request-Method", "GET")
	w = g.Do(r, allowed)
	assert.Equal(t, 403, w.Code)
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))

	r = httptest.NewRequest("GET", "/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w = g.Do(r, allowed)
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, []string{"https://app.example.com"}, w.Header().Values("Access-Control-Allow-Origin"), "upstream's * replaced")
	assert.Equal(t, "X-Request-Id", w.Header().Get("Access-Control-Expose-Headers"))
	assert.Equal(t, "Origin", w.Header().Get("Vary"))

	r = httptest.NewRequest("GET", "/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	w = g.Do(r, &pipeline.Request{ClientIP: "192.0.2.1"})
	assert.Equal(t, 403, w.Code, "ip-restriction denied")
	assert.Equal(t, "https://app.example.com", w.Header().Get("Access-Control-Allow-Origin"), "the browser can read the 403")

	r = httptest.NewRequest("GET", "/items", nil)
	r.Header.Set("Origin", "https://evil.test")
	w = g.Do(r, allowed)
	assert.Equal(t, 200, w.Code)
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), "upstream's * removed for a disallowed origin")
}
