package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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
	const head = " /a/b?size=10 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadbench\r\nAccept: */*\r\n"
	tests := []struct {
		name    string
		body    []byte
		exp     string
		expBody string // what net/http reads as the body
	}{
		{name: "no body is a GET", body: nil, exp: "GET" + head + "\r\n"},
		{
			name:    "a body is a POST of JSON",
			body:    []byte(`{"a":1}`),
			exp:     "POST" + head + "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
			expBody: `{"a":1}`,
		},
		{
			name:    "bytes are sent as they are",
			body:    []byte("\x00\r\n\r\n\xff"),
			exp:     "POST" + head + "Content-Type: application/json\r\nContent-Length: 6\r\n\r\n\x00\r\n\r\n\xff",
			expBody: "\x00\r\n\r\n\xff",
		},
		{
			name: "an empty non-nil body is a POST without bytes",
			body: []byte{},
			exp:  "POST" + head + "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := buildRequest(u, tc.body)
			assert.Equal(t, tc.exp, string(got))
			// Two of them back to back parse as two requests: nothing is left over.
			br := bufio.NewReader(bytes.NewReader(append(slices.Clone(got), got...)))
			for range 2 {
				r, err := http.ReadRequest(br)
				require.NoError(t, err)
				b, err := io.ReadAll(r.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.expBody, string(b))
				assert.Equal(t, "/a/b?size=10", r.RequestURI)
			}
			_, err := br.Peek(1)
			assert.ErrorIs(t, err, io.EOF)
		})
	}
}

// postChecker answers 200 with a short body to a POST of want with
// Content-Type: application/json, and 400 with the reason to anything else.
func postChecker(want []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(r.Body)
		switch {
		case err != nil:
			http.Error(w, "read the body: "+err.Error(), http.StatusBadRequest)
		case r.Method != http.MethodPost:
			http.Error(w, "method "+r.Method+", want POST", http.StatusBadRequest)
		case r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "Content-Type "+r.Header.Get("Content-Type")+", want application/json", http.StatusBadRequest)
		case !bytes.Equal(got, want):
			http.Error(w, fmt.Sprintf("body of %d bytes is not the %d expected", len(got), len(want)), http.StatusBadRequest)
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}
}

func TestRunLoad(t *testing.T) {
	var served atomic.Int64
	order, err := readBody(builtinPrefix + "order2k.json")
	require.NoError(t, err)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		path    string
		body    []byte
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
			name:    "a body is POSTed on every request",
			handler: postChecker(order.Data),
			path:    "/orders/7",
			body:    order.Data,
			check: func(t *testing.T, res *loadResult) {
				assert.Zero(t, res.Non2xx, "the server saw a POST of the body")
				assert.Zero(t, res.Reconns)
				assert.Equal(t, int64(res.Requests)*int64(len(`{"ok":true}`)), res.Bytes)
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
			res, err := runLoad(t.Context(), loadConfig{URL: mustURL(srv.URL + tc.path), Body: tc.body, Conns: 4, Duration: 300 * time.Millisecond})
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
