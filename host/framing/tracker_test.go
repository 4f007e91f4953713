package framing

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrackerRejects(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		expStatus int
		expReason string
	}{
		{"CL and TE", "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both Content-Length and Transfer-Encoding"},
		{"duplicate CL", "POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n", 400, "more than one Content-Length field"},
		{"CL sign", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length is not 1 to 18 decimal digits"},
		{"CL 19 digits", "POST / HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n", 400, "Content-Length is not 1 to 18 decimal digits"},
		{"TE not chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400, "Transfer-Encoding does not end in chunked"},
		{"TE empty element", "POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n", 400, "Transfer-Encoding does not end in chunked"},
		{"TE chunked twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked,chunked\r\n\r\n", 400, "Transfer-Encoding lists chunked more than once"},
		{"TE gzip chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "Transfer-Encoding lists a coding other than chunked"},
		{"TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Transfer-Encoding in an HTTP/1.0 request"},
		{"obs-fold", "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", 400, "obs-fold (line folding) in the header"},
		{"space before colon", "GET / HTTP/1.1\r\nA : b\r\n\r\n", 400, "invalid byte in a field name (whitespace before the colon?)"},
		{"no colon", "GET / HTTP/1.1\r\nAb\r\n\r\n", 400, "field line without a name and colon"},
		{"empty name", "GET / HTTP/1.1\r\n: b\r\n\r\n", 400, "field line without a name and colon"},
		{"DEL in value", "GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", 400, "control byte in a field value"},
		{"bare LF", "GET / HTTP/1.1\n", 400, "line ends with a bare LF; end lines with CRLF"},
		{"bad method", "G(T / HTTP/1.1\r\n\r\n", 400, "invalid byte in the request method"},
		{"missing target", "GET HTTP/1.1\r\n\r\n", 400, "malformed request line; want method SP target SP version"},
		{"control in target", "GET /\x01 HTTP/1.1\r\n\r\n", 400, "invalid byte in the request target"},
		{"HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", 400, "unsupported protocol version; want HTTP/1.1 or HTTP/1.0"},
		{"leading CRLF", "\r\nGET / HTTP/1.1\r\n\r\n", 400, "empty line before the request line"},
		{"preface with fields", "PRI * HTTP/2.0\r\nA: b\r\n\r\n", 400, "HTTP/2 preface followed by a field line"},
		{"too large", "GET / HTTP/1.1\r\nA: " + strings.Repeat("a", 100) + "\r\n\r\n", 431, "header block exceeds the size limit"},
		{"too large unterminated", "GET / HTTP/1.1\r\nA: " + strings.Repeat("a", 100), 431, "header block exceeds the size limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(100)
			n, v := tr.advance([]byte(tc.in))
			assert.Equal(t, 0, n)
			require.Equal(t, rejectBlock, v)
			assert.Equal(t, tc.expStatus, tr.err.Status)
			assert.Equal(t, tc.expReason, tr.err.Reason)
			assert.Contains(t, tr.err.Error(), http.StatusText(tc.expStatus))
		})
	}
}

func TestTrackerFraming(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		exp    int // bytes vetted
		expV   verdict
		expEnd state
	}{
		{"GET", "GET / HTTP/1.1\r\n\r\n", 18, needMore, stHeaders},
		{"partial block", "GET / HTTP/1.1\r\nHost: a\r\n", 0, needMore, stHeaders},
		{"CL body split", "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345", 44, needMore, stBodyLength},
		{"CL body then next block", "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n12GET / HTTP/1.1\r\n", 40, needMore, stHeaders},
		{"chunk line split", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=", 47, needMore, stChunkSize},
		{"chunk end split", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r", 51, needMore, stChunkEnd},
		{"trailer split", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n", 50, needMore, stTrailer},
		{"bad chunk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 47, badBody, stChunkSize},
		{"17 hex digits", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\n", 47, badBody, stChunkSize},
		{"chunk too large", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4000000000000001\r\n", 47, badBody, stChunkSize},
		{"bare CR in chunk ext", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a\rb\r\n", 47, badBody, stChunkSize},
		{"obs-fold in trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n", 50, badBody, stTrailer},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 18, passthrough, stPassthrough},
		{"CONNECT", "CONNECT a:443 HTTP/1.1\r\n\r\n\x16\x03\x01", 26, passthrough, stPassthrough},
		{"upgrade with body", "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: x\r\nContent-Length: 1\r\n\r\nzBIN", 71, passthrough, stPassthrough},
		{"Upgrade without Connection", "GET / HTTP/1.1\r\nUpgrade: x\r\n\r\nGET", 30, needMore, stHeaders},
		{"empty lines after POST", "POST / HTTP/1.1\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 41, needMore, stHeaders},
		{"three empty lines after POST", "POST / HTTP/1.1\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 19, rejectBlock, stStopped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(1024)
			n, v := tr.advance([]byte(tc.in))
			assert.Equal(t, tc.exp, n)
			assert.Equal(t, tc.expV, v)
			assert.Equal(t, tc.expEnd, tr.state)
		})
	}
}

func TestIsTchar(t *testing.T) {
	for c := range 256 {
		exp := c < 128 && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0)
		assert.Equal(t, exp, isTchar(byte(c)), "byte %#x", c)
	}
}

// chunkConn returns its chunks one Read at a time, then io.EOF.
type chunkConn struct {
	net.Conn
	chunks [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	for len(c.chunks) > 0 && len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	return n, nil
}

func (c *chunkConn) RemoteAddr() net.Addr { return &net.TCPAddr{} }

// maxDelivered bounds what deliver reads, since filler can be long.
const maxDelivered = 64 << 10

// deliver splits stream into chunks of the sizes in splits, reads it
// through a guarded connection with reads of the sizes in reads, and
// returns what the server would see.
func deliver(stream, splits, reads []byte) []byte {
	var chunks [][]byte
	rest := stream
	for i := 0; len(rest) > 0; i++ {
		n := len(rest)
		if len(splits) > 0 {
			n = min(n, int(splits[i%len(splits)])+1)
		}
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	c := newConn(&chunkConn{chunks: chunks}, Options{MaxHeaderBytes: 512}.withDefaults())
	var out []byte
	buf := make([]byte, 4096)
	for i := 0; len(out) < maxDelivered; i++ {
		p := buf
		if len(reads) > 0 {
			p = buf[:int(reads[i%len(reads)])+1]
		}
		n, err := c.Read(p)
		out = append(out, p[:n]...)
		if err != nil {
			break
		}
	}
	return out[:min(len(out), maxDelivered)]
}

// validStream is a pipelined stream of valid requests of every framing.
const validStream = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n" +
	"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world" +
	"\r\n" +
	"PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip , Chunked\r\n\r\n" +
	"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n" +
	"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n\x81\x05hello\nbare LF"

func TestDeliverValidStream(t *testing.T) {
	// The 501 request is in the seed on purpose: drop it to get a stream
	// that passes whole.
	valid := strings.Replace(validStream, "PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip , Chunked\r\n\r\n", "", 1)
	for _, split := range []byte{0, 1, 2, 6, 200} {
		assert.Equal(t, valid, string(deliver([]byte(valid), []byte{split}, []byte{split, 3})), "split %d", split)
	}
	got := string(deliver([]byte(validStream), nil, nil))
	assert.True(t, strings.HasSuffix(got, injectNotImplemented), "the 501 request is replaced")
	assert.NotContains(t, got, "/ws")
}

func FuzzTracker(f *testing.F) {
	f.Add([]byte(validStream), []byte{0}, []byte{0})
	f.Add([]byte(validStream), []byte{3, 7, 1}, []byte{255, 5})
	f.Add([]byte("GET / HTTP/1.1\r\nA: "+strings.Repeat("x", 600)+"\r\n\r\n"), []byte{9}, []byte{64})
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), []byte{1}, []byte{2})
	f.Fuzz(func(t *testing.T, stream, splits, reads []byte) {
		whole := deliver(stream, nil, nil)
		split := deliver(stream, splits, reads)
		if !bytes.Equal(whole, split) {
			t.Fatalf("split delivery differs:\nwhole %q\nsplit %q", whole, split)
		}
		if !bytes.HasPrefix(stream, whole) {
			// Only a refused block may change the stream: what was
			// delivered is a prefix of it plus a replacement request.
			for _, inj := range []string{injectBadRequest, injectNotImplemented, injectTooLarge} {
				if i := bytes.Index(whole, []byte(inj)); i >= 0 && bytes.HasPrefix(stream, whole[:i]) {
					return
				}
			}
			t.Fatalf("delivered bytes are not the stream or a prefix plus a replacement:\n%q", whole)
		}
	})
}
