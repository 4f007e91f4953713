package pipeline

import (
	"net/http"
	"strconv"
)

// captureWriter is the ResponseWriter the final handler sees. It holds back
// status and headers until the response-header phases ran, and buffers the body
// when a response-body phase needs it.
type captureWriter struct {
	w          http.ResponseWriter
	st         *state
	buffer     bool // a response-body phase exists
	headerDone bool // the final handler called WriteHeader (or Write)
	flushed    bool // status and headers went to w
	discard    bool // w already has a complete answer; drop handler writes
	overflow   bool
}

var (
	_ http.ResponseWriter = (*captureWriter)(nil)
	_ http.Flusher        = (*captureWriter)(nil)
)

func (cw *captureWriter) reset(w http.ResponseWriter, st *state, buffer bool) {
	*cw = captureWriter{w: w, st: st, buffer: buffer}
}

// Header returns the response header map plugins will see.
func (cw *captureWriter) Header() http.Header { return cw.st.ex.Header }

// WriteHeader captures the status; when streaming it runs the response-header
// phases and sends the headers on.
func (cw *captureWriter) WriteHeader(code int) {
	if cw.headerDone {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // informational responses are not passed through
	}
	cw.headerDone = true
	cw.st.ex.Status = code
	if cw.buffer {
		return
	}
	st := cw.st
	if !st.runResponse(st.reached, PhaseResponseHeaders) {
		st.fail(cw.w, http.StatusInternalServerError)
		cw.discard = true
		return
	}
	if st.ex.Responded {
		st.writeLocal(cw.w)
		cw.discard = true
		return
	}
	h := cw.w.Header()
	for k, v := range st.ex.Header {
		h[k] = v
	}
	cw.w.WriteHeader(st.ex.Status)
	cw.flushed = true
}

// Write buffers or streams p.
func (cw *captureWriter) Write(p []byte) (int, error) {
	if !cw.headerDone {
		cw.WriteHeader(http.StatusOK)
	}
	switch {
	case cw.discard:
		return len(p), nil
	case cw.buffer:
		ex := &cw.st.ex
		if int64(len(ex.ResponseBody)+len(p)) > cw.st.c.opts.MaxResponseBodyBytes {
			cw.overflow = true
			return len(p), nil
		}
		ex.ResponseBody = append(ex.ResponseBody, p...)
		return len(p), nil
	}
	return cw.w.Write(p)
}

// Flush flushes a streamed response.
func (cw *captureWriter) Flush() {
	if cw.flushed && !cw.discard {
		_ = http.NewResponseController(cw.w).Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (cw *captureWriter) Unwrap() http.ResponseWriter { return cw.w }

// finish completes the response once the final handler returned.
func (cw *captureWriter) finish() {
	if !cw.headerDone {
		cw.WriteHeader(http.StatusOK)
	}
	if !cw.buffer || cw.discard {
		return
	}
	st := cw.st
	if cw.overflow {
		st.fail(cw.w, http.StatusBadGateway)
		return
	}
	st.ex.ResponseBodyBuffered = true
	if !st.runResponse(st.reached, PhaseResponseHeaders) || !st.runResponse(st.reached, PhaseResponseBody) {
		st.fail(cw.w, http.StatusInternalServerError)
		return
	}
	h := cw.w.Header()
	for k, v := range st.ex.Header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(st.ex.ResponseBody)))
	cw.w.WriteHeader(st.ex.Status)
	if st.ex.Request.Method != http.MethodHead {
		_, _ = cw.w.Write(st.ex.ResponseBody)
	}
}
