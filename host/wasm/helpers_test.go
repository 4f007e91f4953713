package wasm_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeCaller answers http_call for the "backend" upstream.
type fakeCaller struct{}

func (fakeCaller) Call(_ context.Context, upstream string, req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	h := http.Header{}
	h.Set("X-Upstream", upstream)
	out := req.Method + " " + req.URL.String() + " " + req.Header.Get("X-From") + " " + string(body)
	return &http.Response{StatusCode: 202, Header: h, Body: io.NopCloser(strings.NewReader(out))}, nil
}

type env struct {
	t    *testing.T
	host *wasm.Host
	reg  *prometheus.Registry
	logs *syncBuffer
	kv   *kv.Memory
}

func cacheDir(t testing.TB) string {
	d, err := wasmtest.CacheDir()
	require.NoError(t, err)
	return filepath.Join(d, "wazero")
}

// newHost returns a host with o, closed when the test ends; o gets the
// tests' compilation cache, and a logger that discards when it has none.
func newHost(t testing.TB, o wasm.Options) *wasm.Host {
	t.Helper()
	o.CacheDir = cacheDir(t)
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := wasm.New(t.Context(), o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close(context.WithoutCancel(t.Context()))) })
	return h
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, reg: prometheus.NewRegistry(), logs: &syncBuffer{}, kv: kv.NewMemory()}
	t.Cleanup(func() { _ = e.kv.Close() })
	h, err := wasm.New(t.Context(), wasm.Options{
		CacheDir:           cacheDir(t),
		Registerer:         e.reg,
		Logger:             slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		KV:                 e.kv,
		HTTPCaller:         fakeCaller{},
		Upstreams:          []string{"backend"},
		InstantiateTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close(context.WithoutCancel(t.Context()))) })
	e.host = h
	return e
}

func goPlugin(t testing.TB, name string) string {
	return wasmtest.Build(t, filepath.Join("testdata", "plugins", name))
}

func watPlugin(t testing.TB, name string) string {
	return wasmtest.BuildWAT(t, filepath.Join("testdata", name+".wat"))
}

func pluginCfg(name, source string, opts ...func(*config.Plugin)) *config.Plugin {
	p := &config.Plugin{Name: name, Source: source, Timeout: 2 * time.Second, PoolSize: 4, OnError: config.OnErrorDeny, MemoryBytes: 64 << 20}
	for _, o := range opts {
		o(p)
	}
	return p
}

func (e *env) load(cfg *config.Plugin) *wasm.Plugin {
	e.t.Helper()
	p, err := e.host.Load(e.t.Context(), cfg)
	require.NoError(e.t, err)
	return p
}

// echo is the final handler: it reports what it received in response headers
// and echoes the body.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := w.Header()
	h.Set("X-Up-Method", r.Method)
	h.Set("X-Up-Path", r.URL.EscapedPath())
	h.Set("X-Up-Query", r.URL.RawQuery)
	h.Set("X-Up-Host", r.Host)
	for k, v := range r.Header {
		if strings.HasPrefix(k, "X-") {
			h["X-Up-"+k[2:]] = v
		}
	}
	h.Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
})

func chain(plugins ...*wasm.Plugin) *pipeline.Chain {
	ps := make([]pipeline.Plugin, len(plugins))
	for i, p := range plugins {
		ps[i] = p
	}
	return pipeline.New(ps, pipeline.Options{MaxBodyBytes: 1 << 10})
}
