package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		name string
		in   *config.Retry
		n    int
		exp  time.Duration
	}{
		{name: "no retry config", in: nil, n: 1, exp: 0},
		{name: "first wait", in: &config.Retry{Backoff: 100 * time.Millisecond}, n: 1, exp: 100 * time.Millisecond},
		{name: "doubles", in: &config.Retry{Backoff: 100 * time.Millisecond}, n: 3, exp: 400 * time.Millisecond},
		{name: "capped", in: &config.Retry{Backoff: 100 * time.Millisecond, MaxBackoff: 250 * time.Millisecond}, n: 3, exp: 250 * time.Millisecond},
		{name: "no overflow", in: &config.Retry{Backoff: time.Second}, n: 200, exp: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := backoffDelay(tc.in, tc.n)
			if tc.exp < 0 { // huge: only check it did not overflow
				assert.Greater(t, got, backoffDelay(tc.in, 30))
				return
			}
			assert.Equal(t, tc.exp, got)
		})
	}
}

// countingBackend answers status with body name and counts requests and the
// body bytes it received.
type countingBackend struct {
	url    string
	hits   atomic.Int64
	bodies chan string
}

func newCountingBackend(t *testing.T, name string, status int) *countingBackend {
	b := &countingBackend{bodies: make(chan string, 16)}
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		b.bodies <- string(body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, name)
	})
	b.url = srv.URL
	return b
}

func TestForwardRetries(t *testing.T) {
	retry := &config.Retry{Attempts: 2, OnStatus: []int{503}, Backoff: time.Millisecond}
	tests := []struct {
		name        string
		statuses    []int // one backend per status, picked in this order first; 0 = nothing listens
		method      string
		body        string
		replayable  bool // the front sets GetBody, as a buffering pipeline would
		retry       *config.Retry
		expStatus   int
		expBody     string
		expAttempts int
		expHits     []int64
	}{
		{name: "status retried on another target", statuses: []int{503, 200}, method: "GET", retry: retry,
			expStatus: 200, expBody: "b1", expAttempts: 2, expHits: []int64{1, 1}},
		{name: "last response sent when attempts run out", statuses: []int{503, 503}, method: "GET", retry: retry,
			expStatus: 503, expBody: "b0", expAttempts: 3, expHits: []int64{2, 1}},
		{name: "status not listed is not retried", statuses: []int{500, 200}, method: "GET", retry: retry,
			expStatus: 500, expBody: "b0", expAttempts: 1, expHits: []int64{1, 0}},
		{name: "no retry config", statuses: []int{503, 200}, method: "GET", retry: nil,
			expStatus: 503, expBody: "b0", expAttempts: 1, expHits: []int64{1, 0}},
		{name: "POST is not retried", statuses: []int{503, 200}, method: "POST", body: "x", retry: retry,
			expStatus: 503, expBody: "b0", expAttempts: 1, expHits: []int64{1, 0}},
		{name: "PUT with a body that cannot be replayed is not retried", statuses: []int{503, 200}, method: "PUT", body: "x", retry: retry,
			expStatus: 503, expBody: "b0", expAttempts: 1, expHits: []int64{1, 0}},
		{name: "PUT with a replayable body is retried", statuses: []int{503, 200}, method: "PUT", body: "payload", replayable: true, retry: retry,
			expStatus: 200, expBody: "b1", expAttempts: 2, expHits: []int64{1, 1}},
		{name: "connection refused retried for GET", statuses: []int{0, 200}, method: "GET", retry: retry,
			expStatus: 200, expBody: "b1", expAttempts: 2, expHits: []int64{0, 1}},
		{name: "dial error retried even for POST with a body", statuses: []int{0, 200}, method: "POST", body: "payload", retry: retry,
			expStatus: 200, expBody: "b1", expAttempts: 2, expHits: []int64{0, 1}},
		{name: "dial errors exhaust attempts", statuses: []int{0, 0}, method: "GET", retry: retry,
			expStatus: 502, expAttempts: 3, expHits: []int64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var backends []*countingBackend
			var urls []string
			for i, st := range tc.statuses {
				if st == 0 {
					backends = append(backends, nil)
					urls = append(urls, deadURL(t))
					continue
				}
				b := newCountingBackend(t, "b"+strconv.Itoa(i), st)
				backends = append(backends, b)
				urls = append(urls, b.url)
			}
			pool := newPool(t, nil, urls...)
			f := New(Options{})
			results := make(chan Exchange, 1)
			srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.replayable {
					buf, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(buf))
					r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
				}
				ex := Exchange{Upstream: pool, Path: "/", Retry: tc.retry, Scheme: "http", RequestID: "rid"}
				f.Forward(w, r, &ex)
				results <- ex
			})
			var body io.Reader
			if tc.body != "" {
				body = bytes.NewBufferString(tc.body)
			}
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+"/", body)
			require.NoError(t, err)
			if body != nil {
				req.GetBody = nil // the client must not retry on its own
			}
			resp, err := client().Do(req)
			require.NoError(t, err)
			got, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			assert.Equal(t, tc.expStatus, resp.StatusCode)
			if tc.expBody != "" {
				assert.Equal(t, tc.expBody, string(got))
			}
			ex := wait(t, results, "exchange")
			assert.Equal(t, tc.expAttempts, ex.Attempts)
			assert.Equal(t, tc.expStatus, ex.Status)
			for i, b := range backends {
				if b == nil {
					continue
				}
				assert.Equal(t, tc.expHits[i], b.hits.Load(), "hits of backend %d", i)
				for range b.hits.Load() {
					assert.Equal(t, tc.body, wait(t, b.bodies, "backend body"), "body seen by backend %d", i)
				}
			}
		})
	}
}

// TestForwardBackoffHonoursContext checks that a long backoff ends with the
// exchange's timeout (the held response is sent) and with the client (nothing
// is sent).
func TestForwardBackoffHonoursContext(t *testing.T) {
	retry := &config.Retry{Attempts: 3, OnStatus: []int{503}, Backoff: time.Hour}

	t.Run("exchange timeout", func(t *testing.T) {
		b := newCountingBackend(t, "busy", http.StatusServiceUnavailable)
		fr := newFront(t, New(Options{}), newPool(t, nil, b.url), Exchange{Retry: retry, Timeout: 50 * time.Millisecond})
		resp, err := client().Get(fr.URL + "/")
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "busy", string(got))
		assert.Equal(t, 1, fr.result(t).Attempts)
	})
	t.Run("client gone", func(t *testing.T) {
		b := newCountingBackend(t, "busy", http.StatusServiceUnavailable)
		fr := newFront(t, New(Options{}), newPool(t, nil, b.url), Exchange{Retry: retry})
		ctx, cancel := context.WithCancel(t.Context())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fr.URL+"/", nil)
		require.NoError(t, err)
		errc := make(chan error, 1)
		go func() {
			resp, err := client().Do(req)
			if err == nil {
				_ = resp.Body.Close()
			}
			errc <- err
		}()
		wait(t, b.bodies, "first attempt") // the exchange is now in its backoff
		cancel()
		assert.Error(t, wait(t, errc, "client error"))
		ex := fr.result(t)
		assert.Equal(t, StatusClientClosedRequest, ex.Status)
		assert.Equal(t, 1, ex.Attempts)
	})
}

func errorBodyOf(t *testing.T, resp *http.Response) errorBody {
	t.Helper()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var eb errorBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
	_ = resp.Body.Close()
	return eb
}

func TestForwardErrors(t *testing.T) {
	block := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	tests := []struct {
		name          string
		backend       http.HandlerFunc // nil: nothing listens
		tweak         func(*config.Upstream)
		timeout       time.Duration
		warmup        int // failing requests sent first
		expStatus     int
		expMessage    string
		expRetryAfter string
	}{
		{name: "connection refused", expStatus: 502, expMessage: "Bad Gateway"},
		{name: "exchange timeout", backend: block, timeout: 50 * time.Millisecond, expStatus: 504, expMessage: "Endpoint request timed out"},
		{name: "upstream response timeout", backend: block,
			tweak:     func(u *config.Upstream) { u.ResponseTimeout = 50 * time.Millisecond },
			expStatus: 504, expMessage: "Endpoint request timed out"},
		{name: "reset by the upstream", backend: func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, expStatus: 502, expMessage: "Bad Gateway"},
		{name: "no healthy target", warmup: 1,
			tweak: func(u *config.Upstream) {
				u.PassiveHealth = &config.PassiveHealth{ConsecutiveFailures: 1, EjectDuration: time.Hour}
			},
			expStatus: 503, expMessage: "Service Unavailable"},
		{name: "circuit open", warmup: 1,
			tweak: func(u *config.Upstream) {
				u.CircuitBreaker = &config.CircuitBreaker{ConsecutiveFailures: 1, OpenTimeout: time.Minute}
			},
			expStatus: 503, expMessage: "Service Unavailable", expRetryAfter: "60"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := deadURL(t)
			if tc.backend != nil {
				target = newBackend(t, tc.backend).URL
			}
			fr := newFront(t, New(Options{}), newPool(t, tc.tweak, target), Exchange{
				Timeout: tc.timeout, RequestID: "rid-7", RequestIDHeader: "X-Request-Id",
			})
			for range tc.warmup {
				resp, err := client().Get(fr.URL + "/")
				require.NoError(t, err)
				_ = resp.Body.Close()
				require.Equal(t, http.StatusBadGateway, resp.StatusCode)
				fr.result(t)
			}
			resp, err := client().Get(fr.URL + "/")
			require.NoError(t, err)
			assert.Equal(t, tc.expStatus, resp.StatusCode)
			assert.Equal(t, tc.expRetryAfter, resp.Header.Get("Retry-After"))
			assert.Equal(t, "rid-7", resp.Header.Get("X-Request-Id"))
			assert.Equal(t, errorBody{Message: tc.expMessage, RequestID: "rid-7"}, errorBodyOf(t, resp))
			ex := fr.result(t)
			assert.Equal(t, tc.expStatus, ex.Status)
			var ue *UpstreamError
			require.ErrorAs(t, ex.Err, &ue)
			assert.Equal(t, "api", ue.Upstream)
			assert.Contains(t, ex.Err.Error(), `upstream "api"`)
		})
	}
}

// TestForwardClientGone checks that a client that leaves gets nothing, is
// recorded as 499, and does not count as a failure of the target (passive
// health would eject it after one failure).
func TestForwardClientGone(t *testing.T) {
	arrived := make(chan struct{}, 1)
	var n atomic.Int64
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			arrived <- struct{}{}
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	pool := newPool(t, func(u *config.Upstream) {
		u.PassiveHealth = &config.PassiveHealth{ConsecutiveFailures: 1, EjectDuration: time.Hour}
		u.CircuitBreaker = &config.CircuitBreaker{ConsecutiveFailures: 1, OpenTimeout: time.Hour}
	}, srv.URL)
	fr := newFront(t, New(Options{}), pool, Exchange{})

	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fr.URL+"/", nil)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		resp, err := client().Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		errc <- err
	}()
	wait(t, arrived, "request at the backend")
	cancel()
	assert.ErrorIs(t, wait(t, errc, "client error"), context.Canceled)
	ex := fr.result(t)
	assert.Equal(t, StatusClientClosedRequest, ex.Status)
	assert.ErrorIs(t, ex.Err, context.Canceled)

	resp, err := client().Get(fr.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the target must not be ejected or tripped")
	assert.Equal(t, "ok", string(body))
	fr.result(t)
}

// TestForwardAbortsTruncatedBody checks that a body cut by the exchange
// timeout after the status was sent aborts the client's connection instead of
// ending the body cleanly.
func TestForwardAbortsTruncatedBody(t *testing.T) {
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{Timeout: 100 * time.Millisecond})
	resp, err := client().Get(fr.URL + "/")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the client must see the truncation")
	assert.Equal(t, "partial", string(body))
	ex := fr.result(t)
	assert.Equal(t, http.StatusOK, ex.Status)
	assert.ErrorIs(t, ex.Err, context.DeadlineExceeded)
}
