package proxy

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
)

// upgrade completes a protocol switch (101) answered by the upstream: it
// hijacks the client's connection, writes the 101 and copies bytes both ways
// until either side closes, then closes both.
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
	defer func() { _ = conn.Close() }()
	defer func() { _ = backConn.Close() }()

	res := http.Response{StatusCode: http.StatusSwitchingProtocols, ProtoMajor: 1, ProtoMinor: 1, Header: h}
	if err := res.Write(brw); err == nil {
		err = brw.Flush()
	}
	if err != nil {
		f.logUpgrade(r, ex, fmt.Errorf("write the 101 answer to the client: %w", err))
		return
	}
	// Bytes the client sent after its request, already buffered by net/http.
	if n := brw.Reader.Buffered(); n > 0 {
		pending, _ := brw.Reader.Peek(n)
		if _, err := backConn.Write(pending); err != nil {
			f.logUpgrade(r, ex, fmt.Errorf("copy buffered client bytes upstream: %w", err))
			return
		}
	}

	errc := make(chan error, 2)
	go func() { errc <- f.tunnel(backConn, conn, "client to upstream") }()
	go func() { errc <- f.tunnel(conn, backConn, "upstream to client") }()
	first := <-errc
	_ = conn.Close()
	_ = backConn.Close()
	<-errc
	if first != nil {
		f.logUpgrade(r, ex, first)
	}
}

// tunnel copies src to dst with a pooled buffer. A clean end of src is not an
// error; after it, dst's write side is closed when it can be, so the peer
// sees the end too.
func (f *Forwarder) tunnel(dst io.Writer, src io.Reader, dir string) error {
	bp := f.bufs.Get().(*[]byte)
	defer f.bufs.Put(bp)
	_, err := io.CopyBuffer(dst, readerOnly{src}, *bp)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("upgraded connection, %s: %w", dir, err)
	}
	return nil
}

// readerOnly hides WriterTo so that io.CopyBuffer uses the pooled buffer.
type readerOnly struct{ io.Reader }

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
