package upstream

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// targets builds config targets for urls, all with weight 1.
func targets(urls ...string) []*config.Target {
	out := make([]*config.Target, len(urls))
	for i, u := range urls {
		out[i] = &config.Target{URL: u, Weight: 1}
	}
	return out
}

// newPool builds a pool for cfg and closes it when the test ends.
func newPool(t *testing.T, cfg *config.Upstream, opts Options) *Pool {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "billing"
	}
	p, err := New(t.Context(), cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close(context.WithoutCancel(t.Context()))) })
	return p
}

// stateEvent is one Options.OnStateChange call.
type stateEvent struct{ upstream, target, from, to string }

// recorder collects state changes.
type recorder struct {
	mu     sync.Mutex
	events []stateEvent
}

func (r *recorder) record(upstream, target, from, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, stateEvent{upstream, target, from, to})
}

func (r *recorder) get() []stateEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stateEvent(nil), r.events...)
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     *config.Upstream
		expErr string
	}{
		{
			name:   "nil config",
			expErr: "build upstream pool: no upstream config; pass a *config.Upstream from config.Load",
		},
		{
			name:   "no targets",
			in:     &config.Upstream{Name: "a"},
			expErr: "no targets; add at least one target to the upstream block",
		},
		{
			name:   "relative target",
			in:     &config.Upstream{Name: "a", Targets: targets("localhost:8080")},
			expErr: `target "localhost:8080": not an absolute http or https URL; write it as http://host:port or https://host:port with an optional base path`,
		},
		{
			name:   "ftp target",
			in:     &config.Upstream{Name: "a", Targets: targets("ftp://example.com")},
			expErr: `target "ftp://example.com": not an absolute http or https URL; write it as http://host:port or https://host:port with an optional base path`,
		},
		{
			name:   "target with query",
			in:     &config.Upstream{Name: "a", Targets: targets("http://example.com/?x=1")},
			expErr: `target "http://example.com/?x=1": has a query, fragment or user info; keep only scheme, host, port and base path`,
		},
		{
			name:   "negative weight",
			in:     &config.Upstream{Name: "a", Targets: []*config.Target{{URL: "http://a:1", Weight: -1}}},
			expErr: `target "http://a:1": weight -1 is negative; use a weight of 1 or more`,
		},
		{
			name:   "bad hash_on",
			in:     &config.Upstream{Name: "a", Targets: targets("http://a:1"), Balance: config.BalanceHash, HashOn: "header:"},
			expErr: `hash_on "header:": unknown key source; use "ip", "header:NAME" or "cookie:NAME"`,
		},
		{
			name:   "unknown balance",
			in:     &config.Upstream{Name: "a", Targets: targets("http://a:1"), Balance: "fastest"},
			expErr: `unknown balance "fastest"; use "round_robin", "least_requests", "hash" or "random"`,
		},
		{
			name:   "health interval",
			in:     &config.Upstream{Name: "a", Targets: targets("http://a:1"), HealthCheck: &config.HealthCheck{Path: "/"}},
			expErr: `health check: interval 0s is not positive; set interval, e.g. "10s"`,
		},
		{
			name:   "passive without duration",
			in:     &config.Upstream{Name: "a", Targets: targets("http://a:1"), PassiveHealth: &config.PassiveHealth{ConsecutiveFailures: 3}},
			expErr: "passive health: consecutive_failures (3) and eject_duration (0s) must be positive",
		},
		{
			name:   "breaker ratio",
			in:     &config.Upstream{Name: "a", Targets: targets("http://a:1"), CircuitBreaker: &config.CircuitBreaker{FailureRatio: 1.5}},
			expErr: "circuit breaker: failure_ratio 1.5 is out of range; use a value in (0, 1], or 0 for unused",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(t.Context(), tc.in, Options{})
			require.EqualError(t, err, tc.expErr)
			assert.Nil(t, p)
		})
	}
}

func TestCloseAfterFailedNew(t *testing.T) {
	before := runtime.NumGoroutine()
	// Health check settings are valid, so a broken balance fails New after the
	// targets, transport and breakers were built.
	cfg := &config.Upstream{
		Name:           "a",
		Targets:        targets("http://127.0.0.1:1"),
		Balance:        "fastest",
		HealthCheck:    &config.HealthCheck{Path: "/", Interval: time.Millisecond},
		CircuitBreaker: &config.CircuitBreaker{ConsecutiveFailures: 1},
	}
	p, err := New(t.Context(), cfg, Options{})
	require.Error(t, err)
	require.Nil(t, p)
	assert.NoError(t, p.Close(t.Context()), "Close on the nil pool of a failed New")
	assert.NoError(t, (&Pool{}).Close(t.Context()), "Close on a zero pool")
	assert.Equal(t, before, runtime.NumGoroutine(), "a failed New leaves no goroutine behind")
}

func TestCloseStopsHealthChecks(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer backend.Close()

	checked := make(chan struct{}, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case checked <- struct{}{}:
		default:
		}
	}))
	defer hook.Close()
	before := runtime.NumGoroutine()

	cfg := &config.Upstream{
		Name:        "a",
		Targets:     targets(backend.URL, hook.URL),
		HealthCheck: &config.HealthCheck{Path: "/healthz", Interval: time.Millisecond, Timeout: time.Second},
	}
	p, err := New(t.Context(), cfg, Options{})
	require.NoError(t, err)
	select {
	case <-checked: // the ticker runs checks
	case <-time.After(10 * time.Second):
		t.Fatal("no health check within 10s")
	}
	require.NoError(t, p.Close(t.Context()))
	require.NoError(t, p.Close(t.Context()), "second Close")
	backend.CloseClientConnections()
	hook.CloseClientConnections()
	waitGoroutines(t, before)
}

// waitGoroutines polls, for at most 10s, until no more than want goroutines
// run. Connection goroutines of net/http exit asynchronously after their
// connections close, so there is nothing to wait on but the count.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: want at most %d, have %d:\n%s", want, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCloseTimesOut(t *testing.T) {
	p := &Pool{cfg: &config.Upstream{Name: "a"}, stop: func() {}, stopped: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.EqualError(t, p.Close(ctx), `close upstream "a": wait for health checks to stop: context canceled`)
}

func TestTransport(t *testing.T) {
	tests := []struct {
		name      string
		urls      []string
		skip      bool
		expHTTP2  bool
		expVerify bool
	}{
		{name: "plain http", urls: []string{"http://a:1"}, expVerify: true},
		{name: "https", urls: []string{"http://a:1", "https://b:443"}, expHTTP2: true, expVerify: true},
		{name: "skip verify", urls: []string{"https://b:443"}, skip: true, expHTTP2: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, &config.Upstream{
				Targets:             targets(tc.urls...),
				ConnectTimeout:      3 * time.Second,
				ResponseTimeout:     7 * time.Second,
				MaxIdleConnsPerHost: 11,
				MaxConnsPerHost:     13,
				IdleConnTimeout:     17 * time.Second,
				TLSSkipVerify:       tc.skip,
			}, Options{})
			tr, ok := p.Transport().(*http.Transport)
			require.True(t, ok)
			assert.Nil(t, tr.Proxy)
			assert.NotNil(t, tr.DialContext)
			assert.Equal(t, 11, tr.MaxIdleConnsPerHost)
			assert.Equal(t, 13, tr.MaxConnsPerHost)
			assert.Equal(t, 17*time.Second, tr.IdleConnTimeout)
			assert.Equal(t, 7*time.Second, tr.ResponseHeaderTimeout)
			assert.Equal(t, 3*time.Second, tr.TLSHandshakeTimeout)
			assert.Equal(t, time.Second, tr.ExpectContinueTimeout)
			assert.True(t, tr.DisableCompression)
			assert.Equal(t, tc.expHTTP2, tr.ForceAttemptHTTP2)
			require.NotNil(t, tr.TLSClientConfig)
			assert.Equal(t, !tc.expVerify, tr.TLSClientConfig.InsecureSkipVerify)
			assert.Same(t, p.Transport(), p.Transport(), "one transport per pool")
		})
	}
}

func TestTransportTalksToTLSTarget(t *testing.T) {
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	backend.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	backend.StartTLS()
	defer backend.Close()
	tests := []struct {
		name   string
		skip   bool
		expErr bool
	}{
		{name: "verify fails on self-signed", expErr: true},
		{name: "skip verify", skip: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, &config.Upstream{Targets: targets(backend.URL), TLSSkipVerify: tc.skip}, Options{})
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, backend.URL, nil)
			require.NoError(t, err)
			resp, err := p.Transport().RoundTrip(req)
			if tc.expErr {
				var certErr *tls.CertificateVerificationError
				require.ErrorAs(t, err, &certErr)
				return
			}
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusTeapot, resp.StatusCode)
		})
	}
}

func TestAccessors(t *testing.T) {
	cfg := &config.Upstream{Name: "billing", Targets: targets("http://a:1/base")}
	p := newPool(t, cfg, Options{})
	assert.Equal(t, "billing", p.Name())
	assert.Same(t, cfg, p.Config())
	tg, done, err := p.Pick("", nil)
	require.NoError(t, err)
	done(200, nil)
	assert.Equal(t, "http://a:1/base", tg.String())
	assert.Equal(t, "/base", tg.URL().Path)
	assert.Equal(t, "a:1", tg.URL().Host)
}

func TestUnavailableError(t *testing.T) {
	tests := []struct {
		name string
		in   *Unavailable
		exp  string
	}{
		{name: "breaker", in: &Unavailable{Upstream: "a", Reason: ReasonCircuitOpen, RetryAfter: 3 * time.Second},
			exp: `upstream "a" unavailable: circuit open; retry after 3s`},
		{name: "health", in: &Unavailable{Upstream: "a", Reason: ReasonNoHealthyTargets},
			exp: `upstream "a" unavailable: no healthy targets`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.in, tc.exp)
		})
	}
}

func TestHashKey(t *testing.T) {
	tests := []struct {
		name    string
		balance config.Balance
		hashOn  string
		header  http.Header
		exp     string
	}{
		{name: "not hashing", balance: config.BalanceRoundRobin, hashOn: "ip", exp: ""},
		{name: "default is ip", balance: config.BalanceHash, exp: "192.0.2.7"},
		{name: "ip", balance: config.BalanceHash, hashOn: "ip", exp: "192.0.2.7"},
		{name: "header", balance: config.BalanceHash, hashOn: "header:x-tenant",
			header: http.Header{"X-Tenant": {"acme", "other"}}, exp: "acme"},
		{name: "missing header", balance: config.BalanceHash, hashOn: "header:X-Tenant", exp: ""},
		{name: "cookie", balance: config.BalanceHash, hashOn: "cookie:session",
			header: http.Header{"Cookie": {"a=1; session=s3cr3t"}}, exp: "s3cr3t"},
		{name: "missing cookie", balance: config.BalanceHash, hashOn: "cookie:session",
			header: http.Header{"Cookie": {"a=1"}}, exp: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, &config.Upstream{Targets: targets("http://a:1"), Balance: tc.balance, HashOn: tc.hashOn}, Options{})
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tc.header {
				r.Header[k] = v
			}
			assert.Equal(t, tc.exp, p.HashKey(r, "192.0.2.7"))
		})
	}
}
