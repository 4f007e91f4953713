package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/metrics"
	"github.com/wasmgate/gateway/host/wsframe"
)

// tunnelBufSize is the copy buffer of each direction of an upgraded
// connection; an idle connection holds two.
const tunnelBufSize = 4 << 10

// upgrade completes a protocol switch (101) answered by the upstream: it
// hijacks the client's connection, writes the 101 and hands both
// connections to a tunnel that copies bytes both ways until either side
// closes or a limit of ex.Tunnel expires, then closes both.
func (f *Forwarder) upgrade(w http.ResponseWriter, r *http.Request, ex *Exchange, resp *http.Response, reqType string) {
	respType := upgradeType(resp.Header)
	backConn, ok := resp.Body.(io.ReadWriteCloser)
	var err error
	switch {
	case reqType == "":
		err = errors.New("upstream switched protocols but the client did not ask to upgrade")
	case !strings.EqualFold(reqType, respType):
		err = fmt.Errorf("client asked to upgrade to %q but the upstream switched to %q", reqType, respType)
	case !ok:
		err = fmt.Errorf("response body of the 101 answer is a %T, not a connection", resp.Body)
	}
	if err != nil {
		_ = resp.Body.Close()
		f.upgradeFailed(w, ex, err)
		return
	}

	h := w.Header()
	copyResponseHeader(h, resp.Header)
	h["Connection"] = f.connUpgrade
	h["Upgrade"] = []string{respType}
	if hasOps(&ex.ResponseHeaders) {
		applyOps(h, &ex.ResponseHeaders)
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = backConn.Close()
		f.upgradeFailed(w, ex, fmt.Errorf("hijack the client connection (%s): %w", r.Proto, err))
		return
	}
	ex.Status = http.StatusSwitchingProtocols
	handed := false
	defer func() {
		if !handed {
			_ = conn.Close()
			_ = backConn.Close()
		}
	}()

	res := http.Response{StatusCode: http.StatusSwitchingProtocols, ProtoMajor: 1, ProtoMinor: 1, Header: h}
	if err := res.Write(brw); err == nil {
		err = brw.Flush()
	}
	if err != nil {
		f.logUpgrade(r, ex, fmt.Errorf("write the 101 answer to the client: %w", err))
		return
	}
	t := &tunnel{
		f: f, client: conn, back: backConn, limits: ex.Tunnel, ws: strings.EqualFold(respType, "websocket"),
		upstream: ex.Upstream.Name(), target: ex.Target, requestID: ex.RequestID, start: time.Now(),
	}
	t.toClient = tunnelWriter{w: conn}
	t.toBack = tunnelWriter{w: backConn, masked: true}
	if t.ws {
		t.toClient.frames = f.tunnels.frames.WithLabelValues(t.upstream, "upstream_to_client")
		t.toBack.frames = f.tunnels.frames.WithLabelValues(t.upstream, "client_to_upstream")
	}
	// Bytes the client sent after its request, already buffered by net/http.
	if n := brw.Reader.Buffered(); n > 0 {
		pending, _ := brw.Reader.Peek(n)
		if _, err := t.toBack.Write(pending); err != nil {
			f.logUpgrade(r, ex, fmt.Errorf("copy buffered client bytes upstream: %w", err))
			return
		}
	}
	// The tunnel runs on its own goroutine: the handler returns, so the
	// request's plugin instances and config generation are released while
	// the connection lives on for hours.
	handed = true
	go t.run(context.WithoutCancel(r.Context()))
}

// tunnel is one upgraded connection proxied byte for byte. For WebSocket it
// follows the frame boundaries of both directions, to count frames and to
// close both sides with a 1001 close frame when a limit ends the connection.
type tunnel struct {
	f                *Forwarder
	client           net.Conn
	back             io.ReadWriteCloser
	limits           config.Tunnel
	ws               bool
	upstream, target string
	requestID        string
	start            time.Time
	lastActive       atomic.Int64 // unix nanoseconds
	toClient, toBack tunnelWriter
	endOnce          sync.Once
	endReason        string
}

// tunnelWriter writes one direction, tracking its frame boundaries.
type tunnelWriter struct {
	mu     sync.Mutex
	w      io.Writer
	scan   wsframe.Scanner
	masked bool // client-to-upstream frames are masked
	frames prometheus.Counter
}

func (tw *tunnelWriter) Write(p []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	n, err := tw.w.Write(p)
	if tw.frames != nil {
		before := tw.scan.DataFrames
		tw.scan.Scan(p[:n])
		if d := tw.scan.DataFrames - before; d > 0 {
			tw.frames.Add(float64(d))
		}
	}
	return n, err
}

// closeFrame writes a close frame if the stream is between frames.
func (tw *tunnelWriter) closeFrame(code uint16, reason string) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.scan.AtBoundary() {
		_, _ = tw.w.Write(wsframe.CloseFrame(code, reason, tw.masked))
	}
}

func (t *tunnel) run(ctx context.Context) {
	m := t.f.tunnels
	m.open.WithLabelValues(t.upstream).Inc()
	defer m.open.WithLabelValues(t.upstream).Dec()
	t.lastActive.Store(time.Now().UnixNano())
	if t.limits.IdleTimeout > 0 || t.limits.MaxDuration > 0 {
		var timer *time.Timer
		timer = time.AfterFunc(t.nextCheck(time.Now()), func() { t.check(timer) })
		defer timer.Stop()
	}

	errc := make(chan error, 2)
	go func() { errc <- t.copy(&t.toBack, t.client, "client to upstream", "client") }()
	go func() { errc <- t.copy(&t.toClient, t.back, "upstream to client", "upstream") }()
	first := <-errc
	t.end("", 0)
	<-errc
	m.closes.WithLabelValues(t.upstream, t.endReason).Inc()
	if first != nil {
		t.f.logger.LogAttrs(ctx, slog.LevelDebug, "upgraded connection ended with an error",
			slog.String("request_id", t.requestID), slog.String("upstream", t.upstream),
			slog.String("target", t.target), slog.String("error", first.Error()))
	}
}

// copy copies src to dst with a small buffer (idle tunnels hold it). A clean
// end of src is not an error. side names src for the closes metric.
func (t *tunnel) copy(dst *tunnelWriter, src io.Reader, dir, side string) error {
	buf := make([]byte, tunnelBufSize)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			t.lastActive.Store(time.Now().UnixNano())
			if _, werr := dst.Write(buf[:n]); werr != nil {
				t.end(side, 0)
				if errors.Is(werr, net.ErrClosed) {
					return nil
				}
				return fmt.Errorf("upgraded connection, %s: %w", dir, werr)
			}
		}
		if rerr != nil {
			t.end(side, 0)
			if rerr == io.EOF || errors.Is(rerr, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("upgraded connection, %s: %w", dir, rerr)
		}
	}
}

// nextCheck is the delay until a limit may expire.
func (t *tunnel) nextCheck(now time.Time) time.Duration {
	d := time.Duration(1<<63 - 1)
	if t.limits.IdleTimeout > 0 {
		d = min(d, t.limits.IdleTimeout-now.Sub(time.Unix(0, t.lastActive.Load())))
	}
	if t.limits.MaxDuration > 0 {
		d = min(d, t.limits.MaxDuration-now.Sub(t.start))
	}
	return max(d, time.Millisecond)
}

// check ends the tunnel when a limit expired, or re-arms the timer.
func (t *tunnel) check(timer *time.Timer) {
	now := time.Now()
	switch {
	case t.limits.MaxDuration > 0 && now.Sub(t.start) >= t.limits.MaxDuration:
		t.end("max_duration", 1001)
	case t.limits.IdleTimeout > 0 && now.Sub(time.Unix(0, t.lastActive.Load())) >= t.limits.IdleTimeout:
		t.end("idle_timeout", 1001)
	default:
		timer.Reset(t.nextCheck(now))
	}
}

// end closes both sides once; a limit first sends WebSocket close frames
// with code to both sides. reason is what ended the tunnel: the side that
// closed first, or the limit.
func (t *tunnel) end(reason string, code uint16) {
	t.endOnce.Do(func() {
		t.endReason = reason
		if code != 0 && t.ws {
			msg := strings.ReplaceAll(reason, "_", " ")
			t.toClient.closeFrame(code, msg)
			t.toBack.closeFrame(code, msg)
		}
		_ = t.client.Close()
		_ = t.back.Close()
	})
}

// tunnelMetrics are the upgraded connections' metrics, shared by the
// generations' forwarders.
type tunnelMetrics struct {
	open   *prometheus.GaugeVec
	frames *prometheus.CounterVec
	closes *prometheus.CounterVec
}

func newTunnelMetrics(reg prometheus.Registerer) *tunnelMetrics {
	m := &tunnelMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_upgraded_connections",
			Help: "Open upgraded (WebSocket passthrough) connections by upstream.",
		}, []string{"upstream"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upgraded_frames_total",
			Help: "WebSocket data frames proxied on upgraded connections, by upstream and direction.",
		}, []string{"upstream", "direction"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_upgraded_closes_total",
			Help: "Upgraded connections ended, by upstream and by what ended them: client, upstream, idle_timeout or max_duration.",
		}, []string{"upstream", "reason"}),
	}
	if reg != nil {
		m.open = metrics.Register(reg, m.open)
		m.frames = metrics.Register(reg, m.frames)
		m.closes = metrics.Register(reg, m.closes)
	}
	return m
}

func (f *Forwarder) upgradeFailed(w http.ResponseWriter, ex *Exchange, err error) {
	ex.Status = http.StatusBadGateway
	ex.Err = &UpstreamError{Upstream: ex.Upstream.Name(), Target: ex.Target, Status: ex.Status, Err: err}
	WriteError(w, ex.Status, MessageUpgradeUnsupported, ex.RequestID)
}

func (f *Forwarder) logUpgrade(r *http.Request, ex *Exchange, err error) {
	f.logger.LogAttrs(r.Context(), slog.LevelDebug, "upgraded connection ended with an error",
		slog.String("request_id", ex.RequestID), slog.String("upstream", ex.Upstream.Name()),
		slog.String("target", ex.Target), slog.String("error", err.Error()))
}
