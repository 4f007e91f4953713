package framing_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/framing"
)

// ioTimeout bounds every network operation in these tests.
const ioTimeout = 5 * time.Second

// testMaxHeaderBytes is the header limit of the test servers.
const testMaxHeaderBytes = 4096

// testServer is an http.Server behind the framing guard on 127.0.0.1.
type testServer struct {
	addr    string
	calls   atomic.Int64
	mu      sync.Mutex
	rejects []*framing.Error
}

// handle echoes the request body; a body that cannot be read is answered
// 422 so that it is told apart from the guard's 400.
func (s *testServer) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/probe" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.calls.Add(1)
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		if st, ok := framing.TLSState(c); ok {
			w.Header().Set("X-TLS-ALPN", st.NegotiatedProtocol)
		}
	}
	if r.Header.Get("Upgrade") == "echo" {
		hijackEcho(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("X-Proto", r.Proto)
	for k, v := range r.Trailer {
		w.Header().Set("X-Trailer-"+k, strings.Join(v, ","))
	}
	_, _ = w.Write(body)
}

// hijackEcho answers 101 and then echoes the connection's bytes back.
func hijackEcho(w http.ResponseWriter) {
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	_ = brw.Flush()
	buf := make([]byte, 4096)
	for {
		n, err := brw.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// connKey keys the accepted connection in a request context.
type connKey struct{}

// startServer serves s behind framing.NewListener until the test ends.
func startServer(t *testing.T, protos *http.Protocols) *testServer {
	t.Helper()
	return startServerWith(t, protos, func(ln net.Listener, opts framing.Options) net.Listener {
		return framing.NewListener(ln, opts)
	})
}

// startServerWith serves s behind the listener wrap returns until the test
// ends.
func startServerWith(t *testing.T, protos *http.Protocols, wrap func(net.Listener, framing.Options) net.Listener) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &testServer{addr: ln.Addr().String()}
	opts := framing.Options{
		MaxHeaderBytes:   testMaxHeaderBytes,
		HandshakeTimeout: time.Second,
		OnReject: func(_ net.Addr, err *framing.Error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.rejects = append(s.rejects, err)
		},
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.handle),
		MaxHeaderBytes:    testMaxHeaderBytes,
		ReadHeaderTimeout: ioTimeout,
		Protocols:         protos,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
	}
	go func() { _ = srv.Serve(wrap(ln, opts)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// rejectStatuses returns the statuses of the guard's rejections so far.
func (s *testServer) rejectStatuses() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, e := range s.rejects {
		out = append(out, e.Status)
	}
	return out
}

// dial opens a raw connection whose every operation is bounded in time.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	require.NoError(t, err)
	require.NoError(t, c.SetDeadline(time.Now().Add(ioTimeout)))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawCase is one request stream written on a raw connection.
type rawCase struct {
	name string
	in   string
	// bytewise writes in one byte at a time.
	bytewise bool
	// exp is the status of each response, in order.
	exp []int
	// expBodies, if set, are the bodies of the responses, in order.
	expBodies []string
	// expCalls is how many times the handler runs.
	expCalls int64
	// expClosed says the server closes the connection after the responses;
	// otherwise a probe request on the same connection must be answered.
	expClosed bool
	// expReject is the status of each rejection by the guard.
	expReject []int
}

const (
	getReq  = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	postReq = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
)

func TestRawFraming(t *testing.T) {
	bad := []int{http.StatusBadRequest}
	tests := []rawCase{
		{name: "valid GET", in: getReq, exp: []int{200}, expCalls: 1},
		{name: "valid POST with Content-Length", in: postReq, exp: []int{200}, expBodies: []string{"hello"}, expCalls: 1},
		{
			name: "valid chunked POST with trailers",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n" +
				"5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: v\r\n\r\n",
			exp: []int{200}, expBodies: []string{"hello world"}, expCalls: 1,
		},
		{
			name: "chunk size with extensions",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5;name=value\r\nhello\r\n1;a;b=\"c d\"\r\n!\r\n0;last\r\n\r\n",
			exp: []int{200}, expBodies: []string{"hello!"}, expCalls: 1,
		},
		{
			name: "uppercase hex chunk size and Chunked coding",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n" +
				"A\r\n0123456789\r\n0\r\n\r\n",
			exp: []int{200}, expBodies: []string{"0123456789"}, expCalls: 1,
		},
		{
			name: "three pipelined requests in one write",
			in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none" + getReq +
				"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthree\r\n0\r\n\r\n",
			exp: []int{200, 200, 200}, expBodies: []string{"one", "", "three"}, expCalls: 3,
		},
		{
			name: "pipelined valid request then smuggling attempt",
			in: getReq + "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
			exp: []int{200, 400}, expCalls: 1, expClosed: true, expReject: bad,
		},
		{
			name: "Content-Length and Transfer-Encoding",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding then Content-Length",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "duplicate Content-Length with the same value",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Content-Length list",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Content-Length with plus sign",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Content-Length in hex",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Content-Length with inner space",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 5\r\n\r\nhello",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "empty Content-Length",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\nhello",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Content-Length with surrounding OWS is accepted",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t5 \r\n\r\nhello",
			exp:  []int{200}, expBodies: []string{"hello"}, expCalls: 1,
		},
		{
			name: "Content-Length overflow",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\nhello",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding chunked twice",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding chunked in two fields",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding xchunked",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding chunked with OWS is accepted",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked \r\n\r\n2\r\nhi\r\n0\r\n\r\n",
			exp:  []int{200}, expBodies: []string{"hi"}, expCalls: 1,
		},
		{
			name: "Transfer-Encoding identity",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding chunked then gzip",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding chunked with parameter",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding gzip then chunked is not implemented",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
			exp:  []int{501}, expClosed: true, expReject: []int{501},
		},
		{
			name: "space before the colon",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "obs-fold continuation line",
			in:   "GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "Transfer-Encoding with obs-fold",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "bare LF line endings",
			in:   "GET / HTTP/1.1\nHost: a\n\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "bare LF in one field line",
			in:   "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "bare CR in a field value",
			in:   "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "NUL in a field value",
			in:   "GET / HTTP/1.1\r\nHost: a\r\nX: b\x00c\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{
			name: "HTTP/1.0 with Transfer-Encoding",
			in:   "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			exp:  bad, expClosed: true, expReject: bad,
		},
		{name: "request line with two spaces", in: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", exp: bad, expClosed: true, expReject: bad},
		{name: "request line with trailing space", in: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", exp: bad, expClosed: true, expReject: bad},
		{name: "request line with tabs", in: "GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n", exp: bad, expClosed: true, expReject: bad},
		{name: "request line with space in target", in: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", exp: bad, expClosed: true, expReject: bad},
		{name: "request line with HTTP/2.0", in: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", exp: bad, expClosed: true, expReject: bad},
		{name: "empty line before the first request", in: "\r\n" + getReq, exp: bad, expClosed: true, expReject: bad},
		{
			name: "empty lines after a POST are skipped",
			in:   postReq + "\r\n\r\n" + getReq,
			exp:  []int{200, 200}, expCalls: 2,
		},
		{
			name: "HTTP/2 preface after a request",
			in:   getReq + "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
			exp:  []int{200, 400}, expCalls: 1, expClosed: true, expReject: bad,
		},
		{
			name: "chunk size overflow",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"10000000000000000\r\nx\r\n0\r\n\r\n",
			exp: []int{422}, expCalls: 1, expClosed: true,
		},
		{
			name: "invalid chunk size",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5\r\nhello\r\nzz\r\nx\r\n0\r\n\r\n",
			exp: []int{422}, expCalls: 1, expClosed: true,
		},
		{
			name: "chunk size with trailing space",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5 \r\nhello\r\n0\r\n\r\n",
			exp: []int{422}, expCalls: 1, expClosed: true,
		},
		{
			name: "chunk data not followed by CRLF",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5\r\nhelloXX0\r\n\r\n" + getReq,
			exp: []int{422}, expCalls: 1, expClosed: true,
		},
		{
			name: "chunk line with bare LF",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5\nhello\r\n0\r\n\r\n",
			exp: []int{422}, expCalls: 1, expClosed: true,
		},
		{
			name: "trailer with bare LF",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"0\r\nX-T: v\n\r\n" + getReq,
			exp: []int{422}, expCalls: 1, expClosed: true,
		},
		{
			name: "header block over the limit",
			in:   "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", testMaxHeaderBytes) + "\r\n\r\n",
			exp:  []int{431}, expClosed: true, expReject: []int{431},
		},
		{
			name: "unterminated header block over the limit",
			in:   "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", testMaxHeaderBytes),
			exp:  []int{431}, expClosed: true, expReject: []int{431},
		},
		{
			name: "valid request delivered one byte at a time",
			in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5;x=y\r\nhello\r\n0\r\nX-T: v\r\n\r\n" + getReq,
			bytewise: true,
			exp:      []int{200, 200}, expBodies: []string{"hello", ""}, expCalls: 2,
		},
		{
			name:     "smuggling attempt delivered one byte at a time",
			in:       getReq + "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
			bytewise: true,
			exp:      []int{200, 400}, expCalls: 1, expClosed: true, expReject: bad,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, nil)
			c := dial(t, s.addr)
			if tc.bytewise {
				for i := range len(tc.in) {
					_, err := c.Write([]byte{tc.in[i]})
					require.NoError(t, err)
				}
			} else {
				_, err := io.WriteString(c, tc.in)
				require.NoError(t, err)
			}
			br := bufio.NewReader(c)
			var got []int
			for i := range tc.exp {
				resp, err := http.ReadResponse(br, nil)
				require.NoError(t, err, "response %d", i)
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				got = append(got, resp.StatusCode)
				if i < len(tc.expBodies) {
					assert.Equal(t, tc.expBodies[i], string(body), "body of response %d", i)
				}
				if tc.expClosed && i == len(tc.exp)-1 {
					assert.True(t, resp.Close, "last response must announce Connection: close")
				}
			}
			assert.Equal(t, tc.exp, got)
			assert.Equal(t, tc.expCalls, s.calls.Load(), "handler calls")
			if tc.expClosed {
				_, err := br.ReadByte()
				assert.ErrorIs(t, err, io.EOF, "connection must be closed")
			} else {
				_, err := io.WriteString(c, "GET /probe HTTP/1.1\r\nHost: a\r\n\r\n")
				require.NoError(t, err)
				resp, err := http.ReadResponse(br, nil)
				require.NoError(t, err, "connection must stay usable")
				assert.Equal(t, http.StatusNoContent, resp.StatusCode)
			}
			assert.Equal(t, tc.expReject, s.rejectStatuses(), "guard rejections")
		})
	}
}
