package framing

import (
	"net"
	"net/http"
	"time"
)

// DefaultHandshakeTimeout bounds a lazy TLS handshake when
// Options.HandshakeTimeout is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// Options configures the framing guard. The zero value is ready to use.
type Options struct {
	// MaxHeaderBytes bounds a request's header block (request line, field
	// lines and the empty line) and a chunked body's trailer section. Zero
	// means http.DefaultMaxHeaderBytes.
	//
	// A larger header block is answered 431. net/http only answers 431 when
	// its own limit (http.Server.MaxHeaderBytes plus 4096 bytes of slack) is
	// hit, so the guard feeds it a synthetic header of filler bytes until it
	// gives up. Set http.Server.MaxHeaderBytes to this value so that the
	// filler is about as long as what the client sent; the filler stops after
	// 64 MiB, after which net/http just closes the connection.
	MaxHeaderBytes int
	// HandshakeTimeout bounds the TLS handshake of connections accepted by
	// NewTLSListener. Zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// OnReject, if set, is called with the remote address and the reason
	// each time a request is refused. It runs on the connection's read path
	// and must not block.
	OnReject func(remote net.Addr, err *Error)
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = http.DefaultMaxHeaderBytes
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	return o
}

// listener wraps accepted connections in the framing guard.
type listener struct {
	net.Listener
	opts Options
}

// NewListener returns a listener whose connections refuse HTTP/1.1 requests
// with ambiguous framing before net/http parses them; see the package
// documentation for what is refused and how.
func NewListener(l net.Listener, opts Options) net.Listener {
	return &listener{Listener: l, opts: opts.withDefaults()}
}

// Accept waits for the next connection and wraps it.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newConn(c, l.opts), nil
}

// Interface guards.
var (
	_ net.Listener = (*listener)(nil)
	_ net.Conn     = (*conn)(nil)
)
