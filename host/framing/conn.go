package framing

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// mode is what a connection's Read returns next, once the vetted bytes are
// delivered.
type mode uint8

const (
	modeTrack  mode = iota // read and vet client bytes
	modePass               // read client bytes unchecked
	modeInject             // deliver inject, then drain
	modeFiller             // deliver inject, then filler bytes, then drain
	modeDrain              // discard client bytes until the connection fails
	modeEOF                // report io.EOF
)

// Requests net/http refuses, used in place of a refused header block.
const (
	// injectBadRequest has two different Content-Length values: 400.
	injectBadRequest = "GET / HTTP/1.1\r\nHost: framing.invalid\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n"
	// injectNotImplemented has an unsupported transfer coding: 501.
	injectNotImplemented = "GET / HTTP/1.1\r\nHost: framing.invalid\r\nTransfer-Encoding: gzip\r\n\r\n"
	// injectTooLarge starts a field value that filler bytes extend until
	// net/http hits its header limit: 431.
	injectTooLarge = "GET / HTTP/1.1\r\nHost: framing.invalid\r\nX-Framing-Filler: "
	// maxFiller bounds the filler bytes.
	maxFiller = 64 << 20
	// initialBufSize is the first size of a connection's hold-back buffer.
	initialBufSize = 4096
	// lingerTimeout bounds how long a refused connection is drained after
	// Close, like net/http's RST avoidance delay.
	lingerTimeout = 500 * time.Millisecond
)

// conn vets the bytes read from the embedded connection.
type conn struct {
	net.Conn
	t        tracker
	onReject func(net.Addr, *Error)
	// buf[r:v] is vetted and not yet delivered; buf[v:w] is not yet vetted:
	// the start of an unfinished header block or chunk line.
	buf     []byte
	r, v, w int
	bufMax  int
	mode    mode
	inject  string
	sent    int   // bytes of inject (and filler) delivered
	pending error // a read error to report after the bytes read with it
	// stopped is set once the guard refused a request; Close then lingers.
	stopped atomic.Bool
}

// newConn wraps c; opts must have its defaults set.
func newConn(c net.Conn, opts Options) *conn {
	return &conn{
		Conn:     c,
		t:        newTracker(opts.MaxHeaderBytes),
		onReject: opts.OnReject,
		bufMax:   max(opts.MaxHeaderBytes, maxChunkLine) + 1,
	}
}

// Read delivers the client's bytes once vetted, or the request that replaces
// a refused header block.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.r < c.v {
			n := copy(p, c.buf[c.r:c.v])
			c.r += n
			return n, nil
		}
		if err := c.pending; err != nil {
			c.pending = nil
			return 0, err
		}
		switch c.mode {
		case modePass:
			if c.buf != nil { // drained: an upgraded connection holds no buffer
				c.buf, c.r, c.v, c.w = nil, 0, 0, 0
			}
			return c.Conn.Read(p)
		case modeInject, modeFiller:
			if n, ok := c.injected(p); ok {
				return n, nil
			}
			c.mode = modeDrain
			continue
		case modeDrain:
			return c.drain()
		case modeEOF:
			return 0, io.EOF
		}
		if c.v == c.w {
			if n, done := c.readDirect(p); done {
				return n, nil
			}
			continue
		}
		c.readBuffered()
	}
}

// readDirect reads into p when nothing is held back and vets in place. It
// reports how many bytes of p are ready, and whether the caller should
// return them.
func (c *conn) readDirect(p []byte) (int, bool) {
	c.r, c.v, c.w = 0, 0, 0
	n, err := c.Conn.Read(p)
	c.pending = err
	if n == 0 {
		return 0, false
	}
	v, verdict := c.t.advance(p[:n])
	switch verdict {
	case passthrough:
		c.mode = modePass
		return n, true
	case needMore:
		if v < n {
			// The tracker refuses units longer than bufMax, so n-v < bufMax.
			if len(c.buf) < n-v {
				c.buf = make([]byte, max(initialBufSize, n-v))
			}
			c.w = copy(c.buf, p[v:n])
		}
	default:
		c.stop(verdict)
	}
	return v, v > 0
}

// readBuffered reads more of an unfinished unit into buf and vets it.
func (c *conn) readBuffered() {
	if c.v > 0 {
		c.w = copy(c.buf, c.buf[c.v:c.w])
		c.r, c.v = 0, 0
	}
	if c.w == len(c.buf) {
		grown := make([]byte, min(2*len(c.buf), max(c.bufMax, len(c.buf)+1)))
		copy(grown, c.buf[:c.w])
		c.buf = grown
	}
	n, err := c.Conn.Read(c.buf[c.w:])
	c.pending = err
	if n == 0 {
		return
	}
	c.w += n
	v, verdict := c.t.advance(c.buf[:c.w])
	c.v = v
	switch verdict {
	case passthrough:
		c.v = c.w
		c.mode = modePass
	case rejectBlock, badBody:
		c.w = c.v
		c.stop(verdict)
	}
}

// stop ends tracking after a refused header block or a malformed body.
func (c *conn) stop(verdict verdict) {
	c.pending = nil
	c.stopped.Store(true)
	if verdict == badBody {
		c.mode = modeEOF
		return
	}
	switch c.t.err.Status {
	case http.StatusRequestHeaderFieldsTooLarge:
		c.mode, c.inject = modeFiller, injectTooLarge
	case http.StatusNotImplemented:
		c.mode, c.inject = modeInject, injectNotImplemented
	default:
		c.mode, c.inject = modeInject, injectBadRequest
	}
	if c.onReject != nil {
		c.onReject(c.Conn.RemoteAddr(), c.t.err)
	}
}

// injected fills p with the replacement request; it reports false when
// there is nothing more to deliver.
func (c *conn) injected(p []byte) (int, bool) {
	if c.sent < len(c.inject) {
		n := copy(p, c.inject[c.sent:])
		c.sent += n
		return n, true
	}
	if c.mode != modeFiller || c.sent >= len(c.inject)+maxFiller {
		return 0, false
	}
	n := min(len(p), len(c.inject)+maxFiller-c.sent)
	for i := range p[:n] {
		p[i] = 'a'
	}
	c.sent += n
	return n, true
}

// drain discards the client's bytes until reading fails, which happens when
// net/http closes the connection after its error response. It does not
// report io.EOF itself, which would cancel the context of a request still
// being served on the connection.
func (c *conn) drain() (int, error) {
	if len(c.buf) == 0 {
		c.buf = make([]byte, initialBufSize)
	}
	for {
		if _, err := c.Conn.Read(c.buf); err != nil {
			return 0, err
		}
	}
}

// closeWriter is a connection that can half-close, like *net.TCPConn.
type closeWriter interface {
	CloseWrite() error
}

// CloseWrite shuts down the writing side of the connection if the
// underlying connection supports it; net/http uses it before hanging up.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection. After a refused request, it half-closes and
// drains the client's unread bytes for up to lingerTimeout in the
// background first: closing a socket with unread data sends a TCP reset,
// which can destroy the error response before the client reads it.
func (c *conn) Close() error {
	if !c.stopped.Load() {
		return c.Conn.Close()
	}
	cw, ok := c.Conn.(closeWriter)
	if !ok || cw.CloseWrite() != nil || c.Conn.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		return c.Conn.Close()
	}
	go lingerClose(c.Conn)
	return nil
}

// lingerClose discards what c receives until it fails (at the latest when
// its read deadline passes), then closes it.
func lingerClose(c net.Conn) {
	buf := make([]byte, 1024)
	for {
		if _, err := c.Read(buf); err != nil {
			_ = c.Close()
			return
		}
	}
}
