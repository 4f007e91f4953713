package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildRequest(t *testing.T) {
	u, err := url.Parse("http://127.0.0.1:8080/a/b?size=10")
	require.NoError(t, err)
	assert.Equal(t, "GET /a/b?size=10 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadbench\r\nAccept: */*\r\n\r\n", string(buildRequest(u)))
}

func TestRunLoad(t *testing.T) {
	var served atomic.Int64
	tests := []struct {
		name    string
		handler http.HandlerFunc
		path    string
		check   func(t *testing.T, res *loadResult)
	}{
		{
			name:    "backend handler keeps connections alive",
			handler: newBackendHandler().ServeHTTP,
			path:    "/",
			check: func(t *testing.T, res *loadResult) {
				assert.Zero(t, res.Non2xx)
				assert.Zero(t, res.Reconns, "keep-alive connections are reused")
				assert.Equal(t, int64(res.Requests)*int64(len(backendBody)), res.Bytes)
			},
		},
		{
			name: "chunked bodies",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte("part one "))
				w.(http.Flusher).Flush() // no Content-Length: the body is chunked
				_, _ = w.Write([]byte("part two"))
			},
			path: "/chunked",
			check: func(t *testing.T, res *loadResult) {
				assert.Zero(t, res.Reconns)
				assert.Equal(t, int64(res.Requests)*17, res.Bytes)
			},
		},
		{
			name: "connection close reconnects without errors",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "close")
				_, _ = w.Write([]byte("bye"))
			},
			path: "/close",
			check: func(t *testing.T, res *loadResult) {
				assert.Equal(t, res.Requests, res.Reconns, "every response closes its connection")
			},
		},
		{
			name: "non-2xx are counted, not errors",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "nope", http.StatusServiceUnavailable)
			},
			path: "/503",
			check: func(t *testing.T, res *loadResult) {
				assert.Equal(t, res.Requests, res.Non2xx)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				tc.handler(w, r)
			}))
			defer srv.Close()
			served.Store(0)
			res, err := runLoad(t.Context(), loadConfig{URL: mustURL(srv.URL + tc.path), Conns: 4, Duration: 300 * time.Millisecond})
			require.NoError(t, err)
			require.NoError(t, res.FirstError)
			assert.Zero(t, res.Errors)
			assert.Positive(t, res.Requests)
			assert.Equal(t, res.Requests, res.Hist.Count())
			// In-flight requests at the end are served but not counted.
			assert.LessOrEqual(t, int64(res.Requests), served.Load())
			assert.Positive(t, res.RPS())
			assert.LessOrEqual(t, res.Hist.Percentile(50), res.Hist.Percentile(99))
			assert.Positive(t, res.Hist.Percentile(50))
			tc.check(t, res)
		})
	}
}

func TestRunLoadCountsErrors(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		res, err := runLoad(t.Context(), loadConfig{URL: mustURL("http://" + addr + "/"), Conns: 2, Duration: 100 * time.Millisecond})
		require.NoError(t, err)
		assert.Zero(t, res.Requests)
		assert.Positive(t, res.Errors)
		require.ErrorContains(t, res.FirstError, "connect to "+addr)
	})
	t.Run("no response within the timeout", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		go func() { // accept and never answer
			var held []net.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				held = append(held, c)
			}
		}()
		res, err := runLoad(t.Context(), loadConfig{URL: mustURL("http://" + ln.Addr().String() + "/"), Conns: 2, Duration: 400 * time.Millisecond, Timeout: 50 * time.Millisecond})
		require.NoError(t, err)
		assert.Zero(t, res.Requests)
		assert.Positive(t, res.Errors)
		require.ErrorContains(t, res.FirstError, "no response within 50ms")
	})
	t.Run("garbage response", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(nil)
		ln := srv.Listener
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_, _ = c.Write([]byte("SSH-2.0-OpenSSH\r\n"))
				c.Close()
			}
		}()
		res, err := runLoad(t.Context(), loadConfig{URL: mustURL("http://" + ln.Addr().String() + "/"), Conns: 1, Duration: 100 * time.Millisecond})
		require.NoError(t, err)
		assert.Positive(t, res.Errors)
		require.ErrorContains(t, res.FirstError, `malformed status line "SSH-2.0-OpenSSH"`)
	})
}

func TestRunLoadStopsWhenContextIsCanceled(t *testing.T) {
	srv := httptest.NewServer(newBackendHandler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := runLoad(ctx, loadConfig{URL: mustURL(srv.URL), Conns: 2, Duration: time.Hour})
	require.NoError(t, err)
	assert.Zero(t, res.Errors)
}

func TestRunLoadRejectsBadConfig(t *testing.T) {
	_, err := runLoad(t.Context(), loadConfig{URL: mustURL("https://x/"), Conns: 1, Duration: time.Second})
	require.EqualError(t, err, "load target https://x/: only http:// URLs are supported")
	_, err = runLoad(t.Context(), loadConfig{URL: mustURL("http://x/"), Conns: 0, Duration: time.Second})
	require.True(t, strings.Contains(err.Error(), "need --conns > 0"), err.Error())
}

func TestBackendHandler(t *testing.T) {
	h := newBackendHandler()
	tests := []struct {
		path     string
		expCode  int
		expBody  string
		expBytes int
	}{
		{path: "/", expCode: 200, expBody: backendBody},
		{path: "/anything?x=1", expCode: 200, expBody: backendBody},
		{path: "/?size=3", expCode: 200, expBody: "abc"},
		{path: "/?size=2000000", expCode: 200, expBytes: 2000000},
		{path: "/?size=0&delay=1ms", expCode: 200, expBody: ""},
		{path: "/?size=-1", expCode: 400, expBody: "bad size \"-1\": want 0..67108864 bytes\n"},
		{path: "/?delay=soon", expCode: 400, expBody: "bad delay \"soon\": want a Go duration such as 2ms\n"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			assert.Equal(t, tc.expCode, rec.Code)
			if tc.expBytes > 0 {
				assert.Equal(t, tc.expBytes, rec.Body.Len())
				return
			}
			assert.Equal(t, tc.expBody, rec.Body.String())
		})
	}
	assert.Len(t, backendBody, 100)
}
