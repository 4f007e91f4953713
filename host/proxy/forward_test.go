package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// seen is what a backend saw of a request.
type seen struct {
	host, requestURI string
	header           http.Header
}

// recordingBackend answers 200 "ok" and reports each request it saw.
func recordingBackend(t *testing.T, respHeader http.Header) (*seenCh, string) {
	ch := &seenCh{c: make(chan seen, 16)}
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		ch.c <- seen{host: r.Host, requestURI: r.RequestURI, header: r.Header.Clone()}
		for k, vs := range respHeader {
			w.Header()[k] = vs
		}
		_, _ = io.WriteString(w, "ok")
	})
	return ch, srv.URL
}

type seenCh struct{ c chan seen }

func TestForwardRequestHeaders(t *testing.T) {
	tests := []struct {
		name       string
		in         http.Header
		remoteAddr string // overrides the TCP peer seen by Forward
		host       string
		ex         Exchange
		exp        map[string][]string // nil value: header must be absent
	}{
		{
			name: "hop-by-hop and Connection-listed headers are dropped",
			in: http.Header{
				"Connection":          {"close, X-Secret"},
				"Keep-Alive":          {"timeout=5"},
				"Proxy-Connection":    {"keep-alive"},
				"Proxy-Authorization": {"Basic Zm9vOmJhcg=="},
				"Proxy-Authenticate":  {"Basic"},
				"Upgrade":             {"h2c"},
				"Trailer":             {"X-Sum"},
				"Te":                  {"gzip"},
				"X-Secret":            {"1"},
				"X-Kept":              {"a", "b"},
			},
			exp: map[string][]string{
				"Connection": nil, "Keep-Alive": nil, "Proxy-Connection": nil, "Proxy-Authorization": nil,
				"Proxy-Authenticate": nil, "Upgrade": nil, "Trailer": nil, "Te": nil, "X-Secret": nil,
				"X-Kept": {"a", "b"},
			},
		},
		{
			name: "TE trailers is kept",
			in:   http.Header{"Te": {"trailers, deflate;q=0.5"}},
			exp:  map[string][]string{"Te": {"trailers"}},
		},
		{
			name: "forwarding headers are set for a first hop",
			host: "api.example.com",
			ex:   Exchange{Scheme: "https", RequestID: "req-1", RequestIDHeader: "X-Request-Id"},
			exp: map[string][]string{
				"X-Forwarded-For":   {"127.0.0.1"},
				"X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host":  {"api.example.com"},
				"Forwarded":         {"for=127.0.0.1;host=api.example.com;proto=https"},
				"X-Request-Id":      {"req-1"},
			},
		},
		{
			name: "existing chains are appended to",
			in: http.Header{
				"X-Forwarded-For":   {"198.51.100.7, 10.0.0.1", "10.0.0.2"},
				"Forwarded":         {`for=198.51.100.7;proto=http`},
				"X-Forwarded-Proto": {"gopher"},
			},
			host: "api.example.com:8443",
			ex:   Exchange{Scheme: "http"},
			exp: map[string][]string{
				"X-Forwarded-For":   {"198.51.100.7, 10.0.0.1, 10.0.0.2, 127.0.0.1"},
				"Forwarded":         {`for=198.51.100.7;proto=http, for=127.0.0.1;host="api.example.com:8443";proto=http`},
				"X-Forwarded-Proto": {"http"},
			},
		},
		{
			name:       "IPv6 peers are bracketed and quoted in Forwarded",
			remoteAddr: "[2001:db8::1]:51000",
			host:       "example.com",
			exp: map[string][]string{
				"X-Forwarded-For": {"2001:db8::1"},
				"Forwarded":       {`for="[2001:db8::1]";host=example.com;proto=http`},
			},
		},
		{
			name: "request header ops: remove, then set, then add",
			in:   http.Header{"X-Drop": {"1"}, "X-Set": {"old"}, "X-Add": {"first"}, "Authorization": {"secret"}},
			ex: Exchange{RequestHeaders: config.HeaderOps{
				Remove: []string{"x-drop", "authorization"},
				Set:    map[string]string{"x-set": "new", "X-Api-Key": "k"},
				Add:    map[string]string{"x-add": "second"},
			}},
			exp: map[string][]string{
				"X-Drop": nil, "Authorization": nil, "X-Set": {"new"}, "X-Api-Key": {"k"}, "X-Add": {"first", "second"},
			},
		},
		{
			name: "no User-Agent stays without one",
			in:   http.Header{"User-Agent": {""}}, // the test client then sends none
			exp:  map[string][]string{"User-Agent": nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, target := recordingBackend(t, nil)
			f := New(Options{})
			pool := newPool(t, nil, target)
			results := make(chan Exchange, 1)
			srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.remoteAddr != "" {
					r.RemoteAddr = tc.remoteAddr
				}
				ex := tc.ex
				ex.Upstream, ex.Path, ex.RawQuery = pool, r.URL.EscapedPath(), r.URL.RawQuery
				if ex.Scheme == "" {
					ex.Scheme = "http"
				}
				f.Forward(w, r, &ex)
				results <- ex
			})
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/x", nil)
			require.NoError(t, err)
			for k, vs := range tc.in {
				req.Header[k] = vs
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := client().Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			got := wait(t, ch.c, "backend request")
			u, _ := url.Parse(target)
			assert.Equal(t, u.Host, got.host, "Host is the target's")
			for k, v := range tc.exp {
				if v == nil {
					assert.NotContains(t, got.header, k)
					continue
				}
				assert.Equal(t, v, got.header[k], k)
			}
			if tc.ex.RequestID != "" {
				assert.Equal(t, tc.ex.RequestID, resp.Header.Get(tc.ex.RequestIDHeader), "request id echoed")
			}
			ex := wait(t, results, "exchange")
			assert.Equal(t, http.StatusOK, ex.Status)
			assert.Equal(t, target, ex.Target)
			assert.Equal(t, 1, ex.Attempts)
			assert.NoError(t, ex.Err)
			assert.Positive(t, ex.UpstreamLatency)
		})
	}
}

func TestForwardResponseHeaders(t *testing.T) {
	_, target := recordingBackend(t, http.Header{
		"Connection":   {"X-Internal"},
		"X-Internal":   {"1"},
		"Keep-Alive":   {"timeout=5"},
		"X-Powered-By": {"php"},
		"X-Multi":      {"a", "b"},
		"X-Request-Id": {"upstream-id"},
		"X-Replaced":   {"old"},
	})
	pool := newPool(t, nil, target)
	fr := newFront(t, New(Options{}), pool, Exchange{
		RequestID: "gw-id", RequestIDHeader: "X-Request-Id",
		ResponseHeaders: config.HeaderOps{
			Remove: []string{"X-Powered-By"},
			Set:    map[string]string{"X-Replaced": "new"},
			Add:    map[string]string{"X-Multi": "c"},
		},
	})
	resp, err := client().Get(fr.URL + "/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	h := resp.Header
	assert.NotContains(t, h, "X-Internal")
	assert.NotContains(t, h, "Keep-Alive")
	assert.NotContains(t, h, "X-Powered-By")
	assert.Equal(t, []string{"a", "b", "c"}, h["X-Multi"])
	assert.Equal(t, []string{"new"}, h["X-Replaced"])
	assert.Equal(t, []string{"gw-id"}, h["X-Request-Id"])
	fr.result(t)
}

func TestForwardPath(t *testing.T) {
	tests := []struct {
		name, base, path, query, exp string
	}{
		{name: "plain", path: "/users/42", exp: "/users/42"},
		{name: "encoded slash and space kept", path: "/files/a%2Fb%20c", exp: "/files/a%2Fb%20c"},
		{name: "encoded unicode and reserved kept", path: "/q/%E2%9C%93/%3Bx%3D1", exp: "/q/%E2%9C%93/%3Bx%3D1"},
		{name: "query exact", path: "/s", query: "b=2&a=%2F&a=1&flag", exp: "/s?b=2&a=%2F&a=1&flag"},
		{name: "base path join", base: "/api/v2", path: "/users", exp: "/api/v2/users"},
		{name: "base path with trailing slash", base: "/api/", path: "/users", exp: "/api/users"},
		{name: "base path and root", base: "/api", path: "/", exp: "/api/"},
		{name: "encoded base path", base: "/my%20api", path: "/x%2Fy", exp: "/my%20api/x%2Fy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, target := recordingBackend(t, nil)
			pool := newPool(t, nil, target+tc.base)
			fr := newFront(t, New(Options{}), pool, Exchange{Path: tc.path, RawQuery: tc.query})
			resp, err := client().Get(fr.URL + "/ignored")
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, tc.exp, wait(t, ch.c, "backend request").requestURI)
			fr.result(t)
		})
	}
}

func TestForwardLargeBodies(t *testing.T) {
	const size = 8 << 20
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	sum := sha256.Sum256(payload)
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil || n != size || !bytes.Equal(h.Sum(nil), sum[:]) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		_, _ = w.Write(payload)
	})
	fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{})
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(payload)
		if chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fr.URL+"/upload", body)
		require.NoError(t, err)
		resp, err := client().Do(req)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(got[:min(len(got), 100)]))
		assert.Equal(t, sum, sha256.Sum256(got))
		assert.NoError(t, fr.result(t).Err)
	}
}

// TestForwardStreamsBothWays checks that neither body is buffered whole: the
// backend sees the first request chunk before the client sent the second, and
// the client reads the first response chunk before the backend wrote the
// second.
func TestForwardStreamsBothWays(t *testing.T) {
	gotFirst := make(chan string, 1)
	sendSecond := make(chan struct{})
	readFirst := make(chan struct{})
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		br := bufio.NewReader(r.Body)
		line, err := br.ReadString('\n')
		if err != nil {
			t.Errorf("read first request line: %v", err)
			return
		}
		gotFirst <- line
		rest, _ := io.ReadAll(br)
		_, _ = io.WriteString(w, "response-1\n")
		w.(http.Flusher).Flush()
		select {
		case <-readFirst:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "response-2:"+string(rest))
	})
	fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{})

	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, fr.URL+"/stream", pr)
	require.NoError(t, err)
	go func() {
		_, _ = io.WriteString(pw, "request-1\n")
		<-sendSecond
		_, _ = io.WriteString(pw, "request-2")
		_ = pw.Close()
	}()
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := client().Do(req)
		done <- result{resp, err}
	}()
	assert.Equal(t, "request-1\n", wait(t, gotFirst, "first request chunk at the backend"))
	close(sendSecond)
	res := wait(t, done, "response headers")
	require.NoError(t, res.err)
	defer res.resp.Body.Close()
	br := bufio.NewReader(res.resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "response-1\n", line)
	close(readFirst)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "response-2:request-2", string(rest))
	fr.result(t)
}

func TestForwardTrailers(t *testing.T) {
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Announced")
		_, _ = w.Write(body)
		w.Header().Set("X-Announced", "a:"+r.Trailer.Get("X-Client-Sum"))
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fr.URL+"/", io.MultiReader(strings.NewReader("data")))
	require.NoError(t, err)
	req.Trailer = http.Header{"X-Client-Sum": nil}
	req.Header.Set("Te", "trailers")
	// Trailer values must be set before the body ends: the reader is fully
	// consumed by the transport, so set them now (the transport reads them at EOF).
	req.Trailer.Set("X-Client-Sum", "42")
	resp, err := client().Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, "data", string(body))
	assert.Equal(t, "a:42", resp.Trailer.Get("X-Announced"))
	assert.Equal(t, "late", resp.Trailer.Get("X-Late"))
	fr.result(t)
}

func TestForwardEventStreamFlushes(t *testing.T) {
	release := make(chan struct{})
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select { // hold the stream open until the client got the first event
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "data: two\n\n")
	})
	fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{})
	resp, err := client().Get(fr.URL + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "data: one\n", line)
	close(release)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "\ndata: two\n\n", string(rest))
	fr.result(t)
}

// rawRequest writes a raw HTTP/1.1 request to addr and returns the connection
// and a reader over it.
func rawConn(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn, bufio.NewReader(conn)
}

func TestForwardExpectContinue(t *testing.T) {
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "got:"+string(body))
	})
	t.Run("continue comes from the upstream", func(t *testing.T) {
		fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{})
		conn, br := rawConn(t, fr.Listener.Addr().String())
		_, err := io.WriteString(conn, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		require.NoError(t, err)
		status, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "HTTP/1.1 100 Continue\r\n", status)
		blank, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "\r\n", blank)
		_, err = io.WriteString(conn, "hello")
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "got:hello", string(body))
		fr.result(t)
	})
	t.Run("no continue when the upstream is down", func(t *testing.T) {
		fr := newFront(t, New(Options{}), newPool(t, nil, deadURL(t)), Exchange{})
		conn, br := rawConn(t, fr.Listener.Addr().String())
		_, err := io.WriteString(conn, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		fr.result(t)
	})
}

// deadURL is the URL of a port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

func TestForwardUpgrade(t *testing.T) {
	// The backend switches to an echo protocol: it upper-cases what it reads.
	srv := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "echo") || !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("backend hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Backend: yes\r\n\r\n")
		_ = brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = io.WriteString(brw, strings.ToUpper(line))
			_ = brw.Flush()
		}
	})
	fr := newFront(t, New(Options{}), newPool(t, nil, srv.URL), Exchange{})
	conn, br := rawConn(t, fr.Listener.Addr().String())
	_, err := io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	assert.Equal(t, "echo", resp.Header.Get("Upgrade"))
	assert.Equal(t, "yes", resp.Header.Get("X-Backend"))
	for _, msg := range []string{"hello\n", "again\n"} {
		_, err = io.WriteString(conn, msg)
		require.NoError(t, err)
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, strings.ToUpper(msg), line)
	}
	require.NoError(t, conn.Close()) // the client ends: Forward must return
	ex := fr.result(t)
	assert.Equal(t, http.StatusSwitchingProtocols, ex.Status)
	assert.NoError(t, ex.Err)
}
