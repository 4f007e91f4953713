package proxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name, message, requestID, exp string
		status                        int
	}{
		{name: "plain", status: 404, message: "Not Found", requestID: "r1", exp: `{"message":"Not Found","requestId":"r1"}` + "\n"},
		{name: "escaped", status: 400, message: `Bad "path" <x>`, requestID: "", exp: `{"message":"Bad \"path\" \u003cx\u003e","requestId":""}` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Encoding", "gzip") // stale header of an abandoned answer
			WriteError(rec, tc.status, tc.message, tc.requestID)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, tc.exp, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			assert.Empty(t, rec.Header().Get("Content-Encoding"))
			assert.Equal(t, len(tc.exp), int(rec.Result().ContentLength))
		})
	}
}

func TestUpstreamErrorMessage(t *testing.T) {
	cause := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	tests := []struct {
		name string
		in   *UpstreamError
		exp  string
	}{
		{name: "no target", in: &UpstreamError{Upstream: "api", Status: 503, Err: cause},
			exp: `upstream "api": dial tcp 127.0.0.1:1: connect: connection refused`},
		{name: "answered", in: &UpstreamError{Upstream: "api", Target: "http://b:1", Status: 502, Err: cause},
			exp: `upstream "api" target http://b:1: dial tcp 127.0.0.1:1: connect: connection refused (answered 502; check that the target is up and answers within the route timeout)`},
		{name: "client gone", in: &UpstreamError{Upstream: "api", Target: "http://b:1", Status: 499, Err: cause},
			exp: `upstream "api" target http://b:1: dial tcp 127.0.0.1:1: connect: connection refused (client went away)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.in, tc.exp)
			assert.ErrorIs(t, tc.in, cause)
		})
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for in, exp := range map[time.Duration]string{time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		assert.Equal(t, exp, retryAfterSeconds(in), in.String())
	}
}

// TestForwardBodyTooLarge checks that a body over the server's limit is
// answered 413 and not blamed on the target.
func TestForwardBodyTooLarge(t *testing.T) {
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	})
	f := New(Options{})
	pool := newPool(t, nil, srv.URL)
	results := make(chan Exchange, 1)
	front := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 10)
		ex := Exchange{Upstream: pool, Path: "/", Scheme: "http", RequestID: "big"}
		f.Forward(w, r, &ex)
		results <- ex
	})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, front.URL, io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<20))))
	require.NoError(t, err)
	resp, err := client().Do(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, errorBody{Message: MessageBodyTooLarge, RequestID: "big"}, errorBodyOf(t, resp))
	ex := wait(t, results, "exchange")
	var tooLarge *http.MaxBytesError
	assert.ErrorAs(t, ex.Err, &tooLarge)
	assert.Equal(t, http.StatusRequestEntityTooLarge, ex.Status)
}

// TestForwardUpgradeMismatch checks that a 101 to another protocol than the
// one asked for is refused with 502.
func TestForwardUpgradeMismatch(t *testing.T) {
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(io.Discard, brw) // until the proxy closes
	})
	fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fr.URL+"/ws", nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := client().Do(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	_ = resp.Body.Close()
	ex := fr.result(t)
	require.Error(t, ex.Err)
	assert.Contains(t, ex.Err.Error(), `client asked to upgrade to "websocket" but the upstream switched to "other"`)
}
