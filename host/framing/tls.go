package framing

import (
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"
)

// tlsListener accepts TLS connections whose handshake happens in their first
// Read.
type tlsListener struct {
	net.Listener
	cfg  *tls.Config
	opts Options
}

// NewTLSListener returns a listener that serves TLS with cfg and guards the
// framing of the decrypted requests like NewListener. Accept never blocks on
// a handshake: it runs in the connection's first Read (or Write), bounded by
// Options.HandshakeTimeout and any earlier read deadline.
//
// If cfg.NextProtos is empty, the listener offers "h2" and "http/1.1" by
// ALPN. An HTTP/2 connection reaches net/http as prior-knowledge HTTP/2, so
// the http.Server must enable HTTP1 and UnencryptedHTTP2 in its Protocols,
// and it sees Request.TLS as nil: use TLSState on the connection instead.
func NewTLSListener(l net.Listener, cfg *tls.Config, opts Options) net.Listener {
	cfg = cfg.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	return &tlsListener{Listener: l, cfg: cfg, opts: opts.withDefaults()}
}

// Accept waits for the next connection and wraps it without handshaking.
func (l *tlsListener) Accept() (net.Conn, error) {
	raw, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := tls.Server(raw, l.cfg)
	return &tlsConn{conn: newConn(tc, l.opts), tls: tc, raw: raw, timeout: l.opts.HandshakeTimeout}, nil
}

// tlsConn is a framing-guarded TLS connection with a lazy handshake.
//
// It deliberately has no ConnectionState method: net/http's HTTP/1 server
// takes a connection with one for TLS and then never serves prior-knowledge
// HTTP/2 on it, which is how HTTP/2 negotiated by ALPN reaches it here (the
// TLSNextProto hand-off needs a *tls.Conn). TLSState reads the state instead.
type tlsConn struct {
	*conn
	tls     *tls.Conn
	raw     net.Conn
	timeout time.Duration

	mu            sync.Mutex
	handshaking   bool
	handshook     bool
	hsDeadline    time.Time
	readDeadline  time.Time
	writeDeadline time.Time
}

// Read completes the handshake if needed, then reads vetted bytes.
func (c *tlsConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.conn.Read(p)
}

// Write completes the handshake if needed, then writes.
func (c *tlsConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.conn.Write(p)
}

// handshake runs the TLS handshake once, under the handshake deadline, and
// then restores the deadlines the caller set.
func (c *tlsConn) handshake() error {
	c.mu.Lock()
	if c.handshook {
		c.mu.Unlock()
		return nil
	}
	c.handshaking = true
	c.hsDeadline = time.Now().Add(c.timeout)
	if !c.readDeadline.IsZero() && c.readDeadline.Before(c.hsDeadline) {
		c.hsDeadline = c.readDeadline
	}
	_ = c.raw.SetDeadline(c.hsDeadline)
	c.mu.Unlock()

	err := c.tls.Handshake()

	c.mu.Lock()
	defer c.mu.Unlock()
	c.handshaking = false
	_ = c.raw.SetReadDeadline(c.readDeadline)
	_ = c.raw.SetWriteDeadline(c.writeDeadline)
	if err != nil {
		return fmt.Errorf("tls handshake with %s: %w; check the client's TLS versions, ciphers and trusted CAs", c.raw.RemoteAddr(), err)
	}
	c.handshook = true
	return nil
}

// SetDeadline sets the read and write deadlines.
func (c *tlsConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline; during the handshake it only
// shortens the handshake deadline.
func (c *tlsConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline = t
	if c.handshaking && (t.IsZero() || t.After(c.hsDeadline)) {
		return nil
	}
	return c.tls.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline; during the handshake it only
// shortens the handshake deadline.
func (c *tlsConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeDeadline = t
	if c.handshaking && (t.IsZero() || t.After(c.hsDeadline)) {
		return nil
	}
	return c.tls.SetWriteDeadline(t)
}

// NetConn returns the underlying TCP connection.
func (c *tlsConn) NetConn() net.Conn {
	return c.raw
}

// TLSState returns the TLS state of a connection accepted by NewTLSListener
// (or of a *tls.Conn) once its handshake is complete, and false for other
// connections and before the handshake. Every request on such a connection
// is read after the handshake, so a handler can rely on it.
func TLSState(c net.Conn) (*tls.ConnectionState, bool) {
	var st tls.ConnectionState
	switch c := c.(type) {
	case *tlsConn:
		st = c.tls.ConnectionState()
	case *tls.Conn:
		st = c.ConnectionState()
	default:
		return nil, false
	}
	if !st.HandshakeComplete {
		return nil, false
	}
	return &st, true
}

// Interface guards.
var (
	_ net.Listener = (*tlsListener)(nil)
	_ net.Conn     = (*tlsConn)(nil)
)
