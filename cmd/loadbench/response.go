package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errHeaderTooLarge is returned when a status line or header line does not fit
// in the reader's buffer.
var errHeaderTooLarge = errors.New("response header line larger than the read buffer; raise --buffer")

// response is what the load generator needs to know about one HTTP/1.1
// response. The body is read and discarded, never kept.
type response struct {
	Status int
	// Close is true when the server will close the connection after this
	// response (Connection: close, HTTP/1.0 without keep-alive, or a body
	// delimited by the end of the connection).
	Close bool
	// BodyBytes is the number of body bytes read (without chunk framing).
	BodyBytes int64
}

// respReader reads HTTP/1.1 responses from a connection through one fixed
// buffer, without allocating per response. Bytes after a response (a pipelined
// next response) stay in the buffer for the next call.
type respReader struct {
	r          io.Reader
	buf        []byte
	start, end int // buf[start:end] holds unread bytes
}

// newRespReader returns a reader over r with a buffer of size bytes; a header
// line longer than size is an error.
func newRespReader(r io.Reader, size int) *respReader {
	return &respReader{r: r, buf: make([]byte, size)}
}

// reset drops buffered bytes and reads from r from now on (after a reconnect).
func (rr *respReader) reset(r io.Reader) {
	rr.r = r
	rr.start, rr.end = 0, 0
}

// fill reads at least one more byte into the buffer, moving unread bytes to
// its front when it is full.
func (rr *respReader) fill() error {
	if rr.start > 0 && rr.end == len(rr.buf) {
		n := copy(rr.buf, rr.buf[rr.start:rr.end])
		rr.start, rr.end = 0, n
	}
	if rr.end == len(rr.buf) {
		return errHeaderTooLarge
	}
	if rr.start == rr.end {
		rr.start, rr.end = 0, 0
	}
	for {
		n, err := rr.r.Read(rr.buf[rr.end:])
		rr.end += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// line returns the next line without its CRLF (or bare LF). The slice is only
// valid until the next call on rr.
func (rr *respReader) line() ([]byte, error) {
	scanned := 0
	for {
		if i := bytes.IndexByte(rr.buf[rr.start+scanned:rr.end], '\n'); i >= 0 {
			l := rr.buf[rr.start : rr.start+scanned+i]
			rr.start += scanned + i + 1
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			return l, nil
		}
		scanned = rr.end - rr.start
		if err := rr.fill(); err != nil {
			return nil, unexpectedEOF(err)
		}
	}
}

// discard skips n body bytes.
func (rr *respReader) discard(n int64) error {
	for n > 0 {
		if rr.start == rr.end {
			if err := rr.fill(); err != nil {
				return unexpectedEOF(err)
			}
		}
		k := int64(rr.end - rr.start)
		k = min(k, n)
		rr.start += int(k)
		n -= k
	}
	return nil
}

// discardToEOF skips everything until the server closes the connection and
// returns the number of bytes skipped.
func (rr *respReader) discardToEOF() (int64, error) {
	total := int64(rr.end - rr.start)
	rr.start, rr.end = 0, 0
	for {
		n, err := rr.r.Read(rr.buf)
		total += int64(n)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// read reads one complete response to a GET request: the status line, the
// headers, and the body as Content-Length, chunked encoding or the end of the
// connection delimit it.
func (rr *respReader) read(resp *response) error {
	*resp = response{}
	var (
		l   []byte
		err error
	)
	for {
		l, err = rr.line()
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) && rr.start == rr.end {
				return io.EOF // the server closed an idle connection
			}
			return fmt.Errorf("read status line: %w", err)
		}
		if len(l) > 0 { // tolerate stray blank lines between responses
			break
		}
	}
	http10, status, err := parseStatusLine(l)
	if err != nil {
		return err
	}
	resp.Status = status
	resp.Close = http10

	contentLength := int64(-1)
	chunked := false
	for {
		l, err = rr.line()
		if err != nil {
			return fmt.Errorf("read headers: %w", err)
		}
		if len(l) == 0 {
			break
		}
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 {
			return fmt.Errorf("malformed header line %q", l)
		}
		name, value := l[:colon], bytes.TrimSpace(l[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseDecimal(value)
			if !ok {
				return fmt.Errorf("malformed Content-Length %q", value)
			}
			contentLength = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = hasToken(value, "chunked")
		case bytes.EqualFold(name, []byte("Connection")):
			if hasToken(value, "close") {
				resp.Close = true
			} else if hasToken(value, "keep-alive") {
				resp.Close = false
			}
		}
	}

	switch {
	case status/100 == 1 || status == 204 || status == 304:
		if status/100 == 1 { // an interim response: the real one follows
			return rr.read(resp)
		}
		return nil
	case chunked:
		return rr.readChunked(resp)
	case contentLength >= 0:
		resp.BodyBytes = contentLength
		if err := rr.discard(contentLength); err != nil {
			return fmt.Errorf("read %d-byte body: %w", contentLength, err)
		}
		return nil
	default:
		resp.Close = true
		n, err := rr.discardToEOF()
		resp.BodyBytes = n
		if err != nil {
			return fmt.Errorf("read body delimited by connection close: %w", err)
		}
		return nil
	}
}

// readChunked skips a chunked body and its trailers.
func (rr *respReader) readChunked(resp *response) error {
	for {
		l, err := rr.line()
		if err != nil {
			return fmt.Errorf("read chunk size: %w", err)
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i] // chunk extensions
		}
		size, ok := parseHex(bytes.TrimSpace(l))
		if !ok {
			return fmt.Errorf("malformed chunk size %q", l)
		}
		if size == 0 {
			for { // trailers end with an empty line
				l, err = rr.line()
				if err != nil {
					return fmt.Errorf("read chunked trailers: %w", err)
				}
				if len(l) == 0 {
					return nil
				}
			}
		}
		if err := rr.discard(size); err != nil {
			return fmt.Errorf("read %d-byte chunk: %w", size, err)
		}
		resp.BodyBytes += size
		l, err = rr.line()
		if err != nil {
			return fmt.Errorf("read chunk end: %w", err)
		}
		if len(l) != 0 {
			return fmt.Errorf("chunk of %d bytes not followed by CRLF", size)
		}
	}
}

// parseStatusLine parses "HTTP/1.x NNN reason".
func parseStatusLine(l []byte) (http10 bool, status int, err error) {
	if len(l) < 12 || !bytes.HasPrefix(l, []byte("HTTP/1.")) || l[8] != ' ' || (len(l) > 12 && l[12] != ' ') {
		return false, 0, fmt.Errorf("malformed status line %q", l)
	}
	for _, c := range l[9:12] {
		if c < '0' || c > '9' {
			return false, 0, fmt.Errorf("malformed status code in %q", l)
		}
		status = status*10 + int(c-'0')
	}
	return l[7] == '0', status, nil
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// hasToken reports whether a comma-separated header value contains token,
// ignoring case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var part []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			part, v = v, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(part), []byte(token)) {
			return true
		}
	}
	return false
}
