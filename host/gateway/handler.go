package gateway

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/framing"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/proxy"
	"github.com/wasmgate/gateway/host/router"
)

// reqState is the per-request scratch space, pooled so the hot path does not
// allocate it.
type reqState struct {
	params router.Params
	ex     proxy.Exchange
	sw     statusWriter

	// Set before the final step (mock or upstream) runs; with a plugin chain,
	// the chain calls ServeHTTP as its next handler.
	gen         *generation
	rt          *route
	path        string // normalised routed path
	scheme      string
	reqID       string
	clientIP    string
	origEscaped string // r.URL.EscapedPath() before plugins ran
	info        pipeline.Request
	pparams     []pipeline.Param

	// A function route's event and the exchange its host functions see,
	// kept here so that they cost no allocation per request. serveFunction
	// zeroes both once used, so other routes never pay for them.
	fnEvent abi.FunctionEvent
	fnEx    pipeline.Exchange
}

var statePool = sync.Pool{New: func() any { return new(reqState) }}

// listenerHandler serves one listener's requests; it knows the scheme the
// clients of that listener use.
type listenerHandler struct {
	g      *Gateway
	scheme string
}

func (h listenerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.g.serve(w, r, h.scheme)
}

// ServeHTTP serves r as if it arrived on a plaintext listener. Tests and
// embedders use it; the gateway's own listeners use a scheme-aware handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	g.serve(w, r, scheme)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, scheme string) {
	start := time.Now()
	gen := g.current()
	defer gen.release()
	g.metrics.InFlight().Inc()
	defer g.metrics.InFlight().Dec()

	st := statePool.Get().(*reqState)
	defer st.release()
	srv := &gen.cfg.Server
	st.sw.ResponseWriter = w
	sw := &st.sw

	reqID := requestID(r, gen.reqIDHeader)
	w.Header()[gen.reqIDHeader] = []string{reqID}
	clientIP := clientIP(r, srv.TrustedProxies)

	var (
		rt       *route
		routeKey string
	)
	defer func() {
		if rt != nil {
			rt.metrics.Observe(r.Method, sw.status(), time.Since(start))
		}
		if g.accessLog != nil {
			g.logAccess(r, sw, st, reqID, clientIP, routeKey, start)
		}
	}()

	path, err := router.Normalize(requestPath(r))
	if err != nil {
		g.metrics.Rejected("bad_path")
		st.ex.Err = err
		proxy.WriteError(sw, http.StatusBadRequest, "Bad Request: "+err.Error(), reqID)
		return
	}
	value, res := gen.router.Match(r.Method, r.Host, path, &st.params)
	switch res {
	case router.NotFound:
		g.metrics.Rejected("not_found")
		proxy.WriteError(sw, http.StatusNotFound, "Not Found", reqID)
		return
	case router.MethodNotAllowed:
		g.metrics.Rejected("method_not_allowed")
		sw.Header().Set("Allow", strings.Join(gen.router.Allowed(r.Host, path), ", "))
		proxy.WriteError(sw, http.StatusMethodNotAllowed, "Method Not Allowed", reqID)
		return
	}
	rt = value.(*route)
	routeKey = rt.cfg.Key

	if max := srv.MaxBodyBytes; max > 0 && r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > max {
			g.metrics.Rejected("body_too_large")
			sw.Header().Set("Connection", "close")
			proxy.WriteError(sw, http.StatusRequestEntityTooLarge, "Request Entity Too Large", reqID)
			return
		}
		if r.ContentLength < 0 {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
	}

	var out http.ResponseWriter = sw
	if rt.compress {
		cw, finish := gen.compressor.Wrap(sw, r)
		defer finish()
		out = cw
	}
	if r.Header["Upgrade"] != nil && r.ProtoMajor == 1 {
		// The framing guard stops checking a connection after an upgrade
		// request; if the upstream does not switch protocols, the connection
		// is closed after the response so nothing more is read from it unchecked.
		sw.closeUnlessSwitched = true
	}

	st.gen, st.rt, st.path, st.scheme, st.reqID, st.clientIP = gen, rt, path, scheme, reqID, clientIP
	if rt.chain != nil {
		st.fillInfo(r)
		st.origEscaped = r.URL.EscapedPath()
		rt.chain.Handle(out, r, &st.info, st)
		return
	}
	st.ServeHTTP(out, r)
}

// fillInfo prepares what plugins can read about the request.
func (st *reqState) fillInfo(r *http.Request) {
	st.pparams = st.pparams[:0]
	for i := 0; i < st.params.Len(); i++ {
		st.pparams = append(st.pparams, pipeline.Param{Name: st.params.Name(i), Value: st.params.Value(i)})
	}
	st.info = pipeline.Request{
		RouteKey:  st.rt.cfg.Key,
		Params:    st.pparams,
		ClientIP:  st.clientIP,
		RequestID: st.reqID,
		TLS:       tlsState(r),
	}
	if api := st.rt.cfg.API; api != nil {
		st.info.StageVariables = api.Variables
	}
}

// tlsState returns the TLS state of the request's connection, if any.
func tlsState(r *http.Request) *tls.ConnectionState {
	if r.TLS != nil {
		return r.TLS
	}
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		if cs, ok := framing.TLSState(c); ok {
			return cs
		}
	}
	return nil
}

// ServeHTTP is the final step of a route: the rate limits, then the response
// cache, then the mock answer or the upstream exchange. With plugins it runs
// as the chain's next handler, after the request phases (which may have
// rewritten method, path, query and headers, and set the auth.* properties
// that consumer rate limits count by).
func (st *reqState) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := st.rt
	if (rt.limits != nil || rt.plans != nil) && !st.admit(r.Context(), w, r) {
		return
	}
	if rt.cache != nil {
		st.serveCached(r.Context(), w, r)
		return
	}
	st.serveFinal(w, r)
}

// serveFinal is the mock answer or the upstream exchange.
func (st *reqState) serveFinal(w http.ResponseWriter, r *http.Request) {
	rt := st.rt
	if rt.mock != nil {
		writeMock(w, r, rt.mock)
		return
	}
	if rt.fn != nil {
		st.serveFunction(w, r)
		return
	}
	if rt.ws {
		st.serveWebSocket(w, r)
		return
	}
	ex := &st.ex
	ex.Upstream = rt.pool
	ex.Path = st.path
	if rt.chain != nil && r.URL.EscapedPath() != st.origEscaped {
		// A plugin rewrote the path: forward its path, normalised like any
		// client path, instead of the route's upstream_path.
		p, err := router.Normalize(r.URL.EscapedPath())
		if err != nil {
			ex.Err = fmt.Errorf("plugin rewrote the path to an invalid one: %w", err)
			proxy.WriteError(w, http.StatusInternalServerError, "Internal server error", st.reqID)
			return
		}
		ex.Path = p
	} else if rt.rewrite {
		ex.Path = router.Expand(rt.cfg.UpstreamPath, &st.params)
	}
	ex.RawQuery = r.URL.RawQuery
	ex.ClientIP = st.clientIP
	ex.RequestID = st.reqID
	ex.RequestIDHeader = st.gen.reqIDHeader
	ex.Scheme = st.scheme
	ex.Timeout = rt.cfg.Timeout
	ex.Retry = rt.cfg.Upstream.Retry
	ex.RequestHeaders = rt.cfg.RequestHeaders
	ex.ResponseHeaders = rt.cfg.ResponseHeaders
	ex.Tunnel = rt.cfg.Tunnel
	if rt.split != nil {
		rt.split.pick(r, ex)
	}
	st.gen.forwarder.Forward(w, r, ex)
	if ex.UpstreamLatency > 0 {
		rt.upstream.Observe(ex.UpstreamLatency.Seconds())
	}
}

// release resets the state and puts it back in the pool.
func (st *reqState) release() {
	st.ex = proxy.Exchange{}
	st.sw = statusWriter{}
	st.params.Reset()
	st.gen, st.rt = nil, nil
	st.info = pipeline.Request{}
	clear(st.pparams)
	statePool.Put(st)
}

// requestPath returns the path of the request-target exactly as the client sent
// it (still percent-encoded), so normalisation sees every byte.
func requestPath(r *http.Request) string {
	uri := r.RequestURI
	if strings.HasPrefix(uri, "/") {
		if i := strings.IndexByte(uri, '?'); i >= 0 {
			return uri[:i]
		}
		return uri
	}
	// Absolute-form ("http://host/path") or HTTP/2 requests.
	return r.URL.EscapedPath()
}

func writeMock(w http.ResponseWriter, r *http.Request, m *mockResponse) {
	h := w.Header()
	for k, v := range m.header {
		h[k] = v
	}
	w.WriteHeader(m.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(m.body)
	}
}

// statusWriter records the status and the number of body bytes written.
type statusWriter struct {
	http.ResponseWriter
	code        int
	bytes       int64
	wroteHeader bool
	// closeUnlessSwitched closes the connection after any final response but 101.
	closeUnlessSwitched bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		if code >= 200 || code == http.StatusSwitchingProtocols {
			w.code = code
			w.wroteHeader = true
			if w.closeUnlessSwitched && code != http.StatusSwitchingProtocols {
				w.Header().Set("Connection", "close")
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// WriteString implements io.StringWriter, so that a string body reaches the
// connection's buffer without a []byte copy (net/http's writer has one).
func (w *statusWriter) WriteString(s string) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher.
func (w *statusWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker, for protocol upgrades.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.wroteHeader {
		w.code = http.StatusSwitchingProtocols
		w.wroteHeader = true
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if !w.wroteHeader {
		return 0
	}
	return w.code
}

// logAccess writes the access log line of one request.
func (g *Gateway) logAccess(r *http.Request, sw *statusWriter, st *reqState, reqID, clientIP, routeKey string, start time.Time) {
	status := sw.status()
	if st.ex.Status == 499 && status == 0 {
		status = 499
	}
	attrs := [...]slog.Attr{
		slog.String("request_id", reqID),
		slog.String("client_ip", clientIP),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", routeKey),
		slog.Int("status", status),
		slog.Int64("bytes", sw.bytes),
		slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Float64("upstream_latency_ms", float64(st.ex.UpstreamLatency.Microseconds())/1000),
		slog.String("upstream_target", st.ex.Target),
		slog.String("proto", r.Proto),
	}
	n := len(attrs)
	level := slog.LevelInfo
	if st.ex.Err != nil {
		level = slog.LevelWarn
		g.accessLog.LogAttrs(r.Context(), level, "request", append(attrs[:n:n], slog.String("error", st.ex.Err.Error()))...)
		return
	}
	g.accessLog.LogAttrs(r.Context(), level, "request", attrs[:n]...)
}
