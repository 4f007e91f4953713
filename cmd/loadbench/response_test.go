package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRespReaderRead(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		exp    []response // the responses expected in order
		expErr string     // error of the read after them; "" means io.EOF
	}{
		{
			name: "content-length",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
			exp:  []response{{Status: 200, BodyBytes: 5}},
		},
		{
			name: "header names and values are case-insensitive",
			in:   "HTTP/1.1 404 Not Found\r\ncontent-length:  3 \r\nCONNECTION: Close\r\n\r\nabc",
			exp:  []response{{Status: 404, BodyBytes: 3, Close: true}},
		},
		{
			name: "chunked with extensions and trailers",
			in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
			exp: []response{{Status: 200, BodyBytes: 15}},
		},
		{
			name: "pipelined responses stay apart",
			in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab" +
				"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
				"HTTP/1.1 204 No Content\r\n\r\n",
			exp: []response{{Status: 200, BodyBytes: 2}, {Status: 503, BodyBytes: 3}, {Status: 204}},
		},
		{
			name: "connection close with content-length",
			in:   "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\nx",
			exp:  []response{{Status: 200, BodyBytes: 1, Close: true}},
		},
		{
			name: "body delimited by connection close",
			in:   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
			exp:  []response{{Status: 200, BodyBytes: 13, Close: true}},
		},
		{
			name: "http/1.0 closes unless keep-alive",
			in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na" +
				"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb",
			exp: []response{{Status: 200, BodyBytes: 1}, {Status: 200, BodyBytes: 1, Close: true}},
		},
		{
			name: "interim 100 continue is skipped",
			in:   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
			exp:  []response{{Status: 201}},
		},
		{
			name: "bare LF line endings",
			in:   "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
			exp:  []response{{Status: 200, BodyBytes: 2}},
		},
		{
			name:   "truncated content-length body",
			in:     "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
			expErr: "read 10-byte body: unexpected EOF",
		},
		{
			name:   "truncated headers",
			in:     "HTTP/1.1 200 OK\r\nContent-Len",
			expErr: "read headers: unexpected EOF",
		},
		{
			name:   "malformed status line",
			in:     "HTTP/2 200\r\n\r\n",
			expErr: `malformed status line "HTTP/2 200"`,
		},
		{
			name:   "non-numeric status",
			in:     "HTTP/1.1 2x0 OK\r\n\r\n",
			expErr: `malformed status code in "HTTP/1.1 2x0 OK"`,
		},
		{
			name:   "malformed content-length",
			in:     "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
			expErr: `malformed Content-Length "-1"`,
		},
		{
			name:   "malformed chunk size",
			in:     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
			expErr: `malformed chunk size "zz"`,
		},
		{
			name:   "chunk without CRLF",
			in:     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n",
			expErr: "chunk of 2 bytes not followed by CRLF",
		},
		{
			name:   "header without colon",
			in:     "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
			expErr: `malformed header line "no colon here"`,
		},
		{
			name:   "header line larger than the buffer",
			in:     "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("b", 300) + "\r\n\r\n",
			expErr: "read headers: " + errHeaderTooLarge.Error(),
		},
	}
	readers := map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"halves":   func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
	}
	for _, tc := range tests {
		for rname, mk := range readers {
			t.Run(tc.name+"/"+rname, func(t *testing.T) {
				rr := newRespReader(mk(tc.in), 256)
				var resp response
				for i, exp := range tc.exp {
					require.NoError(t, rr.read(&resp), "response %d", i)
					assert.Equal(t, exp, resp, "response %d", i)
				}
				err := rr.read(&resp)
				if tc.expErr == "" {
					require.ErrorIs(t, err, io.EOF, "after the last response")
					return
				}
				require.EqualError(t, err, tc.expErr)
			})
		}
	}
}

func TestRespReaderResetDropsBufferedBytes(t *testing.T) {
	rr := newRespReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 500 half of a second respo"), 256)
	var resp response
	require.NoError(t, rr.read(&resp))
	rr.reset(strings.NewReader("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"))
	require.NoError(t, rr.read(&resp))
	assert.Equal(t, 202, resp.Status)
}

func TestRespReaderLargeBodyThroughSmallBuffer(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 100_000)
	in := "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + string(body) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	rr := newRespReader(strings.NewReader(in), 128)
	var resp response
	require.NoError(t, rr.read(&resp))
	assert.Equal(t, int64(100_000), resp.BodyBytes)
	require.NoError(t, rr.read(&resp))
	assert.Equal(t, int64(0), resp.BodyBytes)
}

func TestRespReaderDoesNotAllocate(t *testing.T) {
	in := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	lr := &loopReader{data: in, limit: 64 << 20}
	rr := newRespReader(lr, 4096)
	var resp response
	allocs := testing.AllocsPerRun(1000, func() {
		if err := rr.read(&resp); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// loopReader returns data over and over, a few bytes short of whole copies so
// responses straddle reads. With a limit it fails after that many bytes, so
// that a parser that never stops reading fails a test instead of hanging it.
type loopReader struct {
	data  []byte
	off   int
	read  int
	limit int // 0 means no limit
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.limit > 0 && l.read > l.limit {
		return 0, errors.New("loopReader: read budget exhausted")
	}
	n := copy(p[:min(len(p), len(l.data)-3)], l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	l.read += n
	return n, nil
}
