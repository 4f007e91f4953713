package proxy

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// writeState is where a compressWriter is in its response.
type writeState uint8

const (
	stateNew       writeState = iota // no status yet
	stateBuffering                   // status known, body buffered until the decision
	statePass                        // sending as it is
	stateCompress                    // sending through the encoder
	stateHijacked                    // the connection was taken over
)

// compressWriter is the http.ResponseWriter Compressor.Wrap returns.
type compressWriter struct {
	c        *Compressor
	w        http.ResponseWriter
	algo     *algorithm
	enc      encoder
	buf      []byte
	status   int
	state    writeState
	finishFn func() // cw.finish, bound once so that Wrap does not allocate
}

// Header returns the underlying writer's header map.
func (cw *compressWriter) Header() http.Header { return cw.w.Header() }

// Unwrap returns the underlying writer, for http.ResponseController.
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.w }

// WriteHeader records the status and decides, if it can already, whether to
// compress. Informational statuses (1xx) pass through.
func (cw *compressWriter) WriteHeader(code int) {
	if cw.state != stateNew {
		return
	}
	if code < http.StatusOK {
		if code == http.StatusSwitchingProtocols {
			cw.state = statePass
		}
		cw.w.WriteHeader(code)
		return
	}
	cw.status = code
	switch cw.decideEarly() {
	case statePass:
		cw.pass()
	case stateCompress:
		cw.compress()
	default:
		cw.state = stateBuffering
	}
}

// decideEarly decides from the status and headers alone: statePass,
// stateCompress, or stateBuffering when the body must be seen first.
func (cw *compressWriter) decideEarly() writeState {
	switch cw.status {
	case http.StatusNoContent, http.StatusNotModified, http.StatusPartialContent:
		return statePass
	}
	h := cw.w.Header()
	if ce := h["Content-Encoding"]; len(ce) > 0 && !(len(ce) == 1 && strings.EqualFold(ce[0], "identity")) {
		return statePass
	}
	if len(h["Content-Range"]) > 0 || hasToken(h["Cache-Control"], "no-transform") {
		return statePass
	}
	ct := h["Content-Type"]
	if len(ct) > 0 && !cw.c.compressible(ct[0]) {
		return statePass
	}
	if cl := h["Content-Length"]; len(cl) > 0 {
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err == nil && n < int64(max(cw.c.minSize, 1)) {
			return statePass
		}
		if err == nil && len(ct) > 0 {
			return stateCompress
		}
	}
	if cw.c.minSize == 0 && len(ct) > 0 {
		return stateCompress
	}
	return stateBuffering
}

// decideBuffered decides once the buffered body reached MinSize (full) or
// the body ended or was flushed before that. sniff is the first data when
// nothing is buffered.
func (cw *compressWriter) decideBuffered(full bool, sniff []byte) {
	h := cw.w.Header()
	data := cw.buf
	if len(data) == 0 {
		data = sniff
	}
	if len(h["Content-Type"]) == 0 && len(data) > 0 {
		// What net/http would do on the first write, done now to decide.
		h["Content-Type"] = []string{http.DetectContentType(data)}
	}
	ct := h["Content-Type"]
	if full && len(data) > 0 && len(ct) > 0 && cw.c.compressible(ct[0]) {
		cw.compress()
	} else {
		cw.pass()
	}
	if len(cw.buf) > 0 {
		_, _ = cw.write(cw.buf)
		cw.buf = cw.buf[:0]
	}
}

// pass sends the status as it is.
func (cw *compressWriter) pass() {
	cw.state = statePass
	cw.w.WriteHeader(cw.status)
}

// compress sets the headers of a compressed response, sends the status and
// takes an encoder.
func (cw *compressWriter) compress() {
	cw.state = stateCompress
	h := cw.w.Header()
	delete(h, "Content-Length")
	h["Content-Encoding"] = cw.algo.encoding
	if vary := h["Vary"]; !hasToken(vary, "Accept-Encoding") && !hasToken(vary, "*") {
		if len(vary) == 0 {
			h["Vary"] = cw.c.vary
		} else {
			h["Vary"] = append(vary[:len(vary):len(vary)], "Accept-Encoding")
		}
	}
	if etag := h["Etag"]; len(etag) > 0 && etag[0] != "" && !strings.HasPrefix(etag[0], "W/") {
		h["Etag"] = []string{"W/" + etag[0]}
	}
	cw.w.WriteHeader(cw.status)
	cw.enc = cw.algo.encoders.Get().(encoder)
	cw.enc.Reset(cw.w)
}

// write sends p in the decided state.
func (cw *compressWriter) write(p []byte) (int, error) {
	if cw.state == stateCompress {
		return cw.enc.Write(p)
	}
	return cw.w.Write(p)
}

// Write buffers p until the decision, then sends it compressed or not.
func (cw *compressWriter) Write(p []byte) (int, error) {
	if cw.state == stateNew {
		cw.WriteHeader(http.StatusOK)
	}
	if cw.state != stateBuffering {
		return cw.write(p)
	}
	need := cw.c.minSize - len(cw.buf)
	if len(p) < need {
		if cw.buf == nil {
			cw.buf = make([]byte, 0, min(cw.c.minSize, maxKeptBuffer))
		}
		cw.buf = append(cw.buf, p...)
		return len(p), nil
	}
	need = max(need, 0)
	if need > 0 {
		cw.buf = append(cw.buf, p[:need]...)
	}
	cw.decideBuffered(true, p)
	if rest := p[need:]; len(rest) > 0 {
		if _, err := cw.write(rest); err != nil {
			return need, err
		}
	}
	return len(p), nil
}

// Flush sends what is buffered: a response still undecided goes out
// uncompressed, a compressed one flushes its encoder.
func (cw *compressWriter) Flush() { _ = cw.FlushError() }

// FlushError is Flush reporting the error, for http.ResponseController.
func (cw *compressWriter) FlushError() error {
	switch cw.state {
	case stateNew:
		cw.WriteHeader(http.StatusOK)
		if cw.state == stateBuffering {
			cw.decideBuffered(false, nil)
		}
	case stateBuffering:
		cw.decideBuffered(false, nil)
	case stateCompress:
		if err := cw.enc.Flush(); err != nil {
			return err
		}
	case stateHijacked:
		return http.ErrHijacked
	}
	return flush(cw.w)
}

// Hijack takes over the connection through the underlying writer.
func (cw *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(cw.w).Hijack()
	if err == nil {
		cw.state = stateHijacked
	}
	return conn, brw, err
}

// finish ends the response: it sends what is still buffered, closes the
// encoder, and returns the encoder and the writer to their pools.
func (cw *compressWriter) finish() {
	if cw.w == nil {
		return // finished twice
	}
	switch cw.state {
	case stateBuffering:
		cw.decideBuffered(false, nil)
	}
	if cw.enc != nil {
		_ = cw.enc.Close()
		cw.enc.Reset(nil)
		cw.algo.encoders.Put(cw.enc)
	}
	if cap(cw.buf) > maxKeptBuffer {
		cw.buf = nil
	}
	cw.w, cw.algo, cw.enc, cw.buf, cw.status, cw.state = nil, nil, nil, cw.buf[:0], 0, stateNew
	cw.c.writers.Put(cw)
}
