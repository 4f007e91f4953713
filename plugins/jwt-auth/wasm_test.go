package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// caller sends http_call requests for every upstream to one test server on
// 127.0.0.1.
type caller struct {
	base   string
	client *http.Client
}

func (c caller) Call(ctx context.Context, _ string, req *http.Request) (*http.Response, error) {
	u, err := url.Parse(c.base + req.URL.RequestURI())
	if err != nil {
		return nil, err
	}
	out := req.Clone(ctx)
	out.URL, out.Host, out.RequestURI = u, u.Host, ""
	return c.client.Do(out)
}

// logBuffer is a log sink safe for concurrent writers.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// echoUpstream reports the forwarded identity headers.
var echoUpstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Got-User", strings.Join(r.Header.Values("X-User"), ","))
	w.WriteHeader(200)
})

// realGateway runs the built plugin with cfg through host/wasm and the pipeline.
func realGateway(t testing.TB, cfg string, srv *httptest.Server, logs io.Writer) *wasmtest.Gateway {
	t.Helper()
	store := kv.NewMemory()
	t.Cleanup(func() { _ = store.Close() })
	opts := wasm.Options{KV: store, Upstreams: []string{"idp"}, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if srv != nil {
		opts.HTTPCaller = caller{base: srv.URL, client: &http.Client{Timeout: 5 * time.Second}}
	}
	return wasmtest.New(t, opts, echoUpstream, &config.Plugin{
		Name: "auth", Source: wasmtest.Build(t, "."), ConfigJSON: []byte(cfg),
		Timeout: 5 * time.Second, PoolSize: 1, MemoryBytes: 64 << 20, OnError: config.OnErrorDeny,
	})
}

func doBearer(g *wasmtest.Gateway, tok string) (*httptest.ResponseRecorder, *pipeline.Request) {
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("X-User", "forged")
	in := &pipeline.Request{RequestID: "r1"}
	return g.Do(r, in), in
}

func TestThroughRealHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin to wasm")
	}
	k := genKeys()
	now := time.Now()
	good := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", valid(now))
	for _, crypto := range []string{"host", "guest"} {
		t.Run(crypto, func(t *testing.T) {
			logs := &logBuffer{}
			g := realGateway(t, allKeysConfig(t, k, map[string]any{"crypto": crypto, "claims_to_headers": map[string]string{"sub": "X-User"}}), nil, logs)
			tests := []struct {
				name, token string
				exp         int
			}{
				{"RS256", good, 200},
				{"ES256", sign(t, jwt.SigningMethodES256, k.p256, "p256", valid(now)), 200},
				{"EdDSA", sign(t, jwt.SigningMethodEdDSA, k.ed, "ed", valid(now)), 200},
				{"HS256", sign(t, jwt.SigningMethodHS256, k.secret, "hs", valid(now)), 200},
				{"PS256 from another key", sign(t, jwt.SigningMethodPS256, k.rsa2, "rsa", valid(now)), 401},
				{"alg none", raw(`{"alg":"none"}`, `{"sub":"admin"}`, []byte("x")), 401},
				{"tampered", strings.Replace(good, ".", ".e30", 1), 401},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					w, in := doBearer(g, tc.token)
					require.Equal(t, tc.exp, w.Code, "logs: %s", logs.String())
					if tc.exp == 200 {
						assert.Equal(t, "alice", w.Header().Get("X-Got-User"), "forged X-User replaced by the sub claim")
						assert.Equal(t, "alice", in.Properties["auth.principal"])
						return
					}
					assert.JSONEq(t, `{"message":"Unauthorized"}`, w.Body.String())
					assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
				})
			}
			assert.NotContains(t, logs.String(), good[len(good)-30:], "the token is never logged")
		})
	}
}

// keyServer serves a JWKS and OIDC metadata on 127.0.0.1 and counts fetches.
type keyServer struct {
	mu      sync.Mutex
	keys    []map[string]any
	fetches int
	srv     *httptest.Server
}

func newKeyServer(t *testing.T, keys ...map[string]any) *keyServer {
	ks := &keyServer{keys: keys}
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.mu.Lock()
		defer ks.mu.Unlock()
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_, _ = io.WriteString(w, jsonOf(t, map[string]any{"issuer": "https://idp.test", "jwks_uri": "https://idp.test/protocol/certs"}))
		case "/jwks", "/protocol/certs":
			ks.fetches++
			_, _ = io.WriteString(w, jsonOf(t, map[string]any{"keys": ks.keys}))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *keyServer) set(keys ...map[string]any) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys = keys
}

func (ks *keyServer) count() int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.fetches
}

func TestJWKSThroughRealHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin to wasm")
	}
	k := genKeys()
	now := time.Now()
	tok1 := sign(t, jwt.SigningMethodRS256, k.rsa, "k1", valid(now))
	tok2 := sign(t, jwt.SigningMethodES256, k.p256, "k2", valid(now))

	t.Run("rotation refreshes on a new kid", func(t *testing.T) {
		ks := newKeyServer(t, jwkOf(&k.rsa.PublicKey, "k1"))
		logs := &logBuffer{}
		g := realGateway(t, `{"jwks":{"upstream":"idp","path":"/jwks","min_refresh_interval":"1ns"}}`, ks.srv, logs)
		w, _ := doBearer(g, tok1)
		require.Equal(t, 200, w.Code, logs.String())
		assert.Equal(t, 1, ks.count())
		ks.set(jwkOf(&k.p256.PublicKey, "k2")) // rotate: k2 in, k1 out
		w, _ = doBearer(g, tok2)
		assert.Equal(t, 200, w.Code, "new kid triggers a refresh: %s", logs.String())
		assert.Equal(t, 2, ks.count())
		w, _ = doBearer(g, tok1)
		assert.Equal(t, 401, w.Code, "retired key no longer verifies")
	})

	t.Run("unknown kid refreshes are rate-limited", func(t *testing.T) {
		ks := newKeyServer(t, jwkOf(&k.rsa.PublicKey, "k1"))
		g := realGateway(t, `{"jwks":{"upstream":"idp","path":"/jwks","min_refresh_interval":"1h"}}`, ks.srv, io.Discard)
		w, _ := doBearer(g, tok1)
		require.Equal(t, 200, w.Code)
		ks.set(jwkOf(&k.p256.PublicKey, "k2"))
		for i := 0; i < 5; i++ {
			w, _ = doBearer(g, tok2)
			assert.Equal(t, 401, w.Code)
		}
		assert.Equal(t, 1, ks.count(), "one fetch, then no more within min_refresh_interval")
	})

	t.Run("oidc discovery", func(t *testing.T) {
		ks := newKeyServer(t, jwkOf(&k.p256.PublicKey, "k2"))
		g := realGateway(t, `{"oidc":{"upstream":"idp","issuer":"https://idp.test"}}`, ks.srv, io.Discard)
		c := valid(now)
		tok := sign(t, jwt.SigningMethodES256, k.p256, "k2", c)
		w, _ := doBearer(g, tok)
		assert.Equal(t, 200, w.Code)
		assert.Equal(t, 1, ks.count())
	})
}
