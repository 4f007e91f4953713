package proxy

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/upstream"
)

// testTimeout bounds every wait of the tests, so that a bug fails a test
// instead of hanging it.
const testTimeout = 10 * time.Second

// newBackend starts an upstream server on 127.0.0.1.
func newBackend(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newPool builds an upstream pool over targets; tweak may change its config.
func newPool(t testing.TB, tweak func(*config.Upstream), targets ...string) *upstream.Pool {
	t.Helper()
	cfg := &config.Upstream{Name: "api", ResponseTimeout: testTimeout}
	for _, u := range targets {
		cfg.Targets = append(cfg.Targets, &config.Target{URL: u, Weight: 1})
	}
	if tweak != nil {
		tweak(cfg)
	}
	p, err := upstream.New(t.Context(), cfg, upstream.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.WithoutCancel(t.Context())) })
	return p
}

// front is the gateway side of a test: a server whose handler forwards every
// request with a copy of the template exchange and reports the exchange after
// Forward returned.
type front struct {
	*httptest.Server
	results chan Exchange
}

// newFront starts a front server forwarding to pool with ex as the template
// (Path defaults to the request's escaped path, RawQuery to its query).
func newFront(t testing.TB, f *Forwarder, pool Balancer, ex Exchange) *front {
	t.Helper()
	fr := &front{results: make(chan Exchange, 64)}
	fr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := ex
		e.Upstream = pool
		if e.Path == "" {
			e.Path = r.URL.EscapedPath()
		}
		if e.RawQuery == "" {
			e.RawQuery = r.URL.RawQuery
		}
		if e.Scheme == "" {
			e.Scheme = "http"
		}
		if e.ClientIP == "" {
			e.ClientIP, _, _ = net.SplitHostPort(r.RemoteAddr)
		}
		defer func() { fr.results <- e }()
		f.Forward(w, r, &e)
	}))
	t.Cleanup(fr.Close)
	return fr
}

// result waits for the exchange of the next request.
func (fr *front) result(t testing.TB) Exchange {
	t.Helper()
	select {
	case ex := <-fr.results:
		return ex
	case <-time.After(testTimeout):
		t.Fatal("no exchange reported by the front server")
		return Exchange{}
	}
}

// client is an HTTP client that neither compresses nor follows redirects.
func client() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DisableCompression: true, Proxy: nil},
		Timeout:   testTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// wait receives from ch or fails the test after testTimeout.
func wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
