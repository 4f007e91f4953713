package wsapi

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/wasmgate/gateway/host/wsframe"
)

// Conn is one live WebSocket connection of a managed API on this instance.
type Conn struct {
	// ID is the connection id of events and of the @connections API.
	ID          string
	APIName     string
	ConnectedAt time.Time
	SourceIP    string
	UserAgent   string
	DomainName  string
	// Authorizer holds the properties the handshake's plugins set (such as
	// auth.principal); read-only after the handshake.
	Authorizer map[string]string

	hub *Hub
	// ready is closed once the handshake ended; ws and fc are set then,
	// unless it failed (ws stays nil).
	ready      chan struct{}
	ws         *websocket.Conn
	fc         *frameConn
	api        atomic.Pointer[API]
	lastActive atomic.Int64 // unix nanoseconds
	lastSynced int64        // last lastActiveAt written to the registry (read loop only)
	timer      *time.Timer

	closeMu     sync.Mutex
	closeCode   websocket.StatusCode // set when the gateway ends the connection
	closeReason string
	closeDone   chan struct{} // closed once the gateway's close handshake ended
	done        chan struct{}
}

// LastActiveAt is the time of the last message either way.
func (c *Conn) LastActiveAt() time.Time { return time.Unix(0, c.lastActive.Load()) }

func (c *Conn) touch(now time.Time) { c.lastActive.Store(now.UnixNano()) }

// info is the connection as the registry and GET @connections show it.
func (c *Conn) info() Info {
	return Info{
		ConnectionID: c.ID, API: c.APIName, ConnectedAt: c.ConnectedAt, LastActiveAt: c.LastActiveAt(),
		SourceIP: c.SourceIP, UserAgent: c.UserAgent, Instance: c.hub.instance,
	}
}

// send writes one message: a text frame when data is UTF-8, else binary.
func (c *Conn) send(ctx context.Context, data []byte) error {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if c.ws == nil {
		return ErrGone
	}
	typ := websocket.MessageText
	if !utf8.Valid(data) {
		typ = websocket.MessageBinary
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, typ, data); err != nil {
		return err
	}
	c.touch(time.Now())
	return nil
}

// closeWith ends the connection from the gateway's side with a close frame;
// the first code given wins. It does not wait.
func (c *Conn) closeWith(code websocket.StatusCode, reason string) {
	c.closeMu.Lock()
	if c.closeCode != 0 {
		c.closeMu.Unlock()
		return
	}
	c.closeCode, c.closeReason = code, reason
	c.closeDone = make(chan struct{})
	c.closeMu.Unlock()
	go func() {
		<-c.ready
		if c.ws != nil {
			_ = c.ws.Close(code, reason)
		}
		close(c.closeDone)
	}()
}

// checkLimits runs from the connection's timer: it closes the connection
// once it was idle or open too long, or re-arms the timer.
func (c *Conn) checkLimits() {
	api := c.api.Load()
	now := time.Now()
	age := now.Sub(c.ConnectedAt)
	idle := now.Sub(c.LastActiveAt())
	switch {
	case age >= api.MaxDuration:
		c.closeWith(websocket.StatusGoingAway, "maximum connection duration reached")
	case idle >= api.IdleTimeout:
		c.closeWith(websocket.StatusGoingAway, "idle timeout")
	default:
		c.timer.Reset(min(api.IdleTimeout-idle, api.MaxDuration-age))
	}
}

// frameConn is the hijacked connection as the WebSocket library reads it: it
// follows frame boundaries and fails the read that brings a frame header
// over the API's frame size limit, before any of its payload is buffered.
type frameConn struct {
	net.Conn
	pending []byte // bytes net/http had read past the handshake
	s       wsframe.Scanner
	tooBig  atomic.Bool
}

var errFrameTooBig = errors.New("websocket frame exceeds max_frame_size")

func (f *frameConn) Read(p []byte) (int, error) {
	if f.tooBig.Load() {
		return 0, errFrameTooBig
	}
	var (
		n   int
		err error
	)
	if len(f.pending) > 0 {
		n = copy(p, f.pending)
		f.pending = f.pending[n:]
		if len(f.pending) == 0 {
			f.pending = nil
		}
	} else {
		n, err = f.Conn.Read(p)
	}
	if !f.s.Scan(p[:n]) {
		f.tooBig.Store(true)
		return 0, errFrameTooBig
	}
	return n, err
}

// The buffers of a managed connection.
const (
	readBufSize  = 1 << 10
	writeBufSize = 2 << 10
)

// hijackWriter hands the WebSocket library a frameConn when it hijacks the
// handshake's connection.
type hijackWriter struct {
	http.ResponseWriter
	maxFrame int64
	fc       *frameConn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	fc := &frameConn{Conn: nc, s: wsframe.Scanner{Max: h.maxFrame}}
	if n := brw.Reader.Buffered(); n > 0 {
		p, _ := brw.Reader.Peek(n)
		fc.pending = append([]byte(nil), p...)
	}
	// net/http hands over 4 KiB buffers each way, held for the connection's
	// life. Smaller ones halve an idle connection's memory; larger messages
	// bypass them (bufio reads and writes big payloads directly).
	brw = bufio.NewReadWriter(bufio.NewReaderSize(fc, readBufSize), bufio.NewWriterSize(fc, writeBufSize))
	h.fc = fc
	return fc, brw, nil
}

// Unwrap lets http.ResponseController reach the gateway's writer.
func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }
