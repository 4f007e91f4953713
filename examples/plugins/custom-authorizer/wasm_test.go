package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// caller is the gateway's side of http_call for the test: upstream names to
// base URLs on 127.0.0.1.
type caller struct {
	targets map[string]string
	client  *http.Client
}

func (c *caller) Call(ctx context.Context, upstream string, req *http.Request) (*http.Response, error) {
	base, ok := c.targets[upstream]
	if !ok {
		return nil, fmt.Errorf("no upstream %q", upstream)
	}
	out, err := http.NewRequestWithContext(ctx, req.Method, base+req.URL.RequestURI(), req.Body)
	if err != nil {
		return nil, err
	}
	out.Header = req.Header.Clone()
	return c.client.Do(out)
}

// upstream echoes the principal header.
var upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Saw-Principal", r.Header.Get("X-Principal"))
	w.WriteHeader(200)
})

// newAuthService answers Bearer good -> alice, banned -> 403, else 401, and
// counts its calls.
func newAuthService(t testing.TB) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/authorize" {
			http.NotFound(w, r)
			return
		}
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			_, _ = io.WriteString(w, `{"principal":"alice"}`)
		case "Bearer banned":
			w.WriteHeader(403)
		default:
			w.WriteHeader(401)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func newGateway(t testing.TB, dir, cfg string, targets map[string]string) *wasmtest.Gateway {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin to wasm; skipped with -short")
	}
	store := kv.NewMemory()
	t.Cleanup(func() { _ = store.Close() })
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	opts := wasm.Options{
		KV:         store,
		HTTPCaller: &caller{targets: targets, client: &http.Client{Timeout: 5 * time.Second}},
		Upstreams:  names,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return wasmtest.New(t, opts, upstream,
		&config.Plugin{Name: "authorizer", Source: wasmtest.Build(t, dir), ConfigJSON: []byte(cfg), Timeout: 5 * time.Second, PoolSize: 2})
}

func do(g *wasmtest.Gateway, auth string) (*httptest.ResponseRecorder, *pipeline.Request) {
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("X-Principal", "spoofed")
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	in := &pipeline.Request{}
	return g.Do(r, in), in
}

func TestThroughRealHost(t *testing.T) {
	srv, calls := newAuthService(t)
	g := newGateway(t, ".", `{"upstream":"auth","principal_header":"X-Principal","cache_ttl":"1m"}`, map[string]string{"auth": srv.URL})

	for i := range 3 {
		w, in := do(g, "Bearer good")
		require.Equal(t, 200, w.Code, "request %d", i)
		assert.Equal(t, "alice", w.Header().Get("X-Saw-Principal"))
		assert.Equal(t, "alice", in.Properties["auth.principal"])
	}
	assert.Equal(t, int64(1), calls.Load(), "decision cached in the shared KV: one auth call for three requests")

	w, _ := do(g, "Bearer banned")
	assert.Equal(t, 403, w.Code)
	assert.JSONEq(t, `{"message":"Forbidden"}`, w.Body.String())
	w, _ = do(g, "Bearer nope")
	assert.Equal(t, 401, w.Code)
	assert.JSONEq(t, `{"message":"Unauthorized"}`, w.Body.String())
	w, _ = do(g, "Bearer nope")
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, int64(3), calls.Load(), "denials are cached too")

	w, _ = do(g, "")
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, int64(3), calls.Load(), "no token, no call")
}

func TestAuthServiceDown(t *testing.T) {
	srv, _ := newAuthService(t)
	url := srv.URL
	srv.Close() // connection refused from now on
	tests := []struct {
		name, cfg string
		expStatus int
		expBody   string
	}{
		{name: "503 by default", cfg: `{"upstream":"auth"}`, expStatus: 503, expBody: `{"message":"Service Unavailable"}`},
		{name: "401 when configured", cfg: `{"upstream":"auth","unavailable_status":401}`, expStatus: 401, expBody: `{"message":"Unauthorized"}`},
		{name: "undeclared upstream is denied by the allowlist", cfg: `{"upstream":"billing"}`, expStatus: 503, expBody: `{"message":"Service Unavailable"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, ".", tc.cfg, map[string]string{"auth": url})
			w, _ := do(g, "Bearer good")
			assert.Equal(t, tc.expStatus, w.Code)
			assert.JSONEq(t, tc.expBody, w.Body.String())
			assert.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"))
		})
	}
}
