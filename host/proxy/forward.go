package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/upstream"
)

// Balancer is what Forward needs from an upstream pool. *upstream.Pool
// satisfies it.
type Balancer interface {
	// Name is the upstream's name, for errors.
	Name() string
	// Transport sends requests to the pool's targets.
	Transport() http.RoundTripper
	// Pick chooses a target not in exclude (if it can); the returned Done must
	// be called exactly once. Its error may be an *upstream.Unavailable.
	Pick(key string, exclude []*upstream.Target) (*upstream.Target, upstream.Done, error)
	// HashKey is the balancing key of r ("" unless the pool hashes).
	HashKey(r *http.Request, clientIP string) string
}

// Interface guards.
var (
	_ Balancer            = (*upstream.Pool)(nil)
	_ http.ResponseWriter = (*compressWriter)(nil)
	_ http.Flusher        = (*compressWriter)(nil)
	_ http.Hijacker       = (*compressWriter)(nil)
)

// bufSize is the size of the pooled body copy buffers.
const bufSize = 32 << 10

// Options are the dependencies of a Forwarder.
type Options struct {
	// Logger receives the debug lines of upgraded connections that end with
	// an error. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the upgraded connections' metrics; nil keeps
	// them unregistered.
	Registerer prometheus.Registerer
}

// Forwarder forwards requests to upstream targets. It is safe for concurrent
// use and holds no per-request state; build one per gateway generation.
type Forwarder struct {
	logger  *slog.Logger
	bufs    sync.Pool // *[]byte of bufSize
	tunnels *tunnelMetrics

	// Shared, never modified header values.
	teTrailers  []string
	connUpgrade []string
	emptyValue  []string
}

// New builds a Forwarder.
func New(opts Options) *Forwarder {
	f := &Forwarder{
		logger:      opts.Logger,
		tunnels:     newTunnelMetrics(opts.Registerer),
		teTrailers:  []string{"trailers"},
		connUpgrade: []string{"Upgrade"},
		emptyValue:  []string{""},
	}
	if f.logger == nil {
		f.logger = slog.New(slog.DiscardHandler)
	}
	f.bufs.New = func() any {
		b := make([]byte, bufSize)
		return &b
	}
	return f
}

// Exchange describes one request to forward and, after Forward returns, what
// happened, for logs and metrics. The gateway fills the inputs; Forward
// resets and fills the results.
type Exchange struct {
	// Upstream is the pool to forward to.
	Upstream Balancer
	// Path is the normalised, already rewritten path in canonical encoded
	// form ("/users/a%2Fb"). It is joined to the target's base path and sent
	// exactly: percent-encodings are not decoded or re-encoded.
	Path string
	// RawQuery is the encoded query without '?', sent as it is.
	RawQuery string
	// ClientIP is the client's address as the gateway computed it (trusted
	// proxies applied). It feeds hash balancing, and X-Forwarded-For and
	// Forwarded when the request has no TCP peer address.
	ClientIP string
	// RequestID is the request's id, sent upstream and echoed to the client
	// in the RequestIDHeader header.
	RequestID       string
	RequestIDHeader string
	// Scheme is "http" or "https", as the client sees the gateway.
	Scheme string
	// Timeout bounds the whole exchange: every attempt, backoff waits and the
	// response body. 0 leaves only the upstream's response timeout. It does
	// not bound an upgraded (WebSocket) connection once switched.
	Timeout time.Duration
	// Retry configures retries; nil means a single attempt (but see the
	// package documentation for dial errors).
	Retry *config.Retry
	// RequestHeaders change the outgoing request's headers, after the
	// forwarding headers are set. ResponseHeaders change the answer's.
	RequestHeaders, ResponseHeaders config.HeaderOps

	// Status is the status sent to the client: the upstream's, the error
	// answer's, or StatusClientClosedRequest when the client went away
	// before anything was sent.
	Status int
	// Target is the target tried last ("" when none was picked).
	Target string
	// UpstreamLatency is the time from the start of Forward until the
	// response headers of the last attempt arrived (or it failed).
	UpstreamLatency time.Duration
	// Tunnel limits the connection when the upstream switches protocols;
	// the zero value sets no limit.
	Tunnel config.Tunnel

	// Attempts counts the requests sent to targets.
	Attempts int
	// Err is why the exchange failed, nil on success. It is an
	// *UpstreamError, except for client body errors.
	Err error
}

// bodyReader wraps the client's request body for the transport: Close is a
// no-op, so that the body survives an attempt that failed to dial, and it
// records whether a byte was read and the read error.
type bodyReader struct {
	rc   io.ReadCloser
	read atomic.Bool
	mu   sync.Mutex
	err  error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 && !b.read.Load() {
		b.read.Store(true)
	}
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *bodyReader) Close() error { return nil }

func (b *bodyReader) readErr() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// attempt is the per-exchange scratch space, in one allocation: the outgoing
// URL, the values of the forwarding headers and the list of targets tried.
type attempt struct {
	url   url.URL
	vals  [5]string
	tried [4]*upstream.Target
}

// Forward sends r to a target of ex.Upstream and streams the answer to w. It
// retries as ex.Retry allows, answers failures with WriteError and reports
// the outcome in ex. See the package documentation for the details.
//
// If the upstream's body fails after the status was sent, Forward panics with
// http.ErrAbortHandler (as httputil.ReverseProxy does) so that net/http
// aborts the client's connection instead of ending the body cleanly; ex is
// filled in before.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, ex *Exchange) {
	start := time.Now()
	ex.Status, ex.Target, ex.UpstreamLatency, ex.Attempts, ex.Err = 0, "", 0, 0, nil
	st := new(attempt)
	st.echoRequestID(w.Header(), ex)
	if ex.Upstream == nil {
		ex.Err = errors.New("forward: exchange has no upstream; set Exchange.Upstream to the route's pool")
		ex.Status = http.StatusBadGateway
		WriteError(w, ex.Status, MessageBadGateway, ex.RequestID)
		return
	}

	ctx := r.Context()
	if ex.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ex.Timeout)
		defer cancel()
	}

	upType := upgradeType(r.Header)
	header := f.outHeader(r, ex, upType, st)

	var body *bodyReader
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		body = &bodyReader{rc: r.Body}
		// The transport may still be reading the request body (its final EOF
		// check) when the response headers go out. Without full duplex, the
		// HTTP/1 server drains and closes the request body at that moment,
		// the transport sees its body fail and drops the upstream connection
		// mid-response. Not every writer supports it (HTTP/2 is always full
		// duplex), so the error is ignored.
		_ = http.NewResponseController(w).EnableFullDuplex()
	}

	resp, done, err := f.roundTrip(ctx, r, ex, st, header, body)
	ex.UpstreamLatency = time.Since(start)
	if err != nil {
		f.fail(w, r, ex, err, body.readErr())
		return
	}

	if resp.StatusCode == http.StatusSwitchingProtocols {
		if done != nil {
			done(resp.StatusCode, nil)
		}
		f.upgrade(w, r, ex, resp, upType)
		return
	}

	ex.Status = resp.StatusCode
	bodyErr, clientErr := f.respond(w, ex, st, resp)
	_ = resp.Body.Close()
	if bodyErr != nil && r.Context().Err() != nil {
		// The client went away: the upstream read was canceled with it.
		bodyErr, clientErr = nil, context.Canceled
	}
	if done != nil {
		done(resp.StatusCode, bodyErr)
	}
	switch {
	case bodyErr != nil:
		ex.Err = &UpstreamError{Upstream: ex.Upstream.Name(), Target: ex.Target, Status: ex.Status, Err: bodyErr}
		panic(http.ErrAbortHandler)
	case clientErr != nil:
		ex.Err = &UpstreamError{Upstream: ex.Upstream.Name(), Target: ex.Target, Status: StatusClientClosedRequest, Err: clientErr}
	}
}

// roundTrip runs the attempts. It returns the response to send and its Done,
// or nil Done when the outcome was already recorded, or the error of the last
// attempt.
func (f *Forwarder) roundTrip(ctx context.Context, r *http.Request, ex *Exchange, st *attempt, header http.Header, body *bodyReader) (*http.Response, upstream.Done, error) {
	pool := ex.Upstream
	key := pool.HashKey(r, ex.ClientIP)
	rt := pool.Transport()

	retries := 0
	if ex.Retry != nil && ex.Retry.Attempts > 0 {
		retries = ex.Retry.Attempts
	}
	replayable := body == nil || r.GetBody != nil
	retryable := retries > 0 && replayable && isIdempotent(r.Method)

	var (
		tried   []*upstream.Target
		held    *http.Response // a retryable response kept until the next attempt starts
		lastErr error
	)
	for n := 1; ; n++ {
		t, done, err := pool.Pick(key, tried)
		if err != nil {
			switch {
			case held != nil:
				return held, nil, nil
			case lastErr != nil:
				return nil, nil, lastErr
			}
			return nil, nil, err
		}
		if held != nil {
			_ = held.Body.Close()
			held = nil
		}
		ex.Attempts = n
		ex.Target = t.String()

		reqBody := io.ReadCloser(http.NoBody)
		switch {
		case body == nil:
		case n == 1 || r.GetBody == nil:
			reqBody = body // the first attempt, or a retried dial error: nothing was read
		default:
			b, err := r.GetBody()
			if err != nil {
				done(0, context.Canceled) // not the target's fault
				return nil, nil, err
			}
			reqBody = b
		}
		tu := t.URL()
		st.url = url.URL{Scheme: tu.Scheme, Host: tu.Host, RawQuery: ex.RawQuery}
		setPath(&st.url, tu, ex.Path)
		out := (&http.Request{
			Method:        r.Method,
			URL:           &st.url,
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        header,
			Body:          reqBody,
			ContentLength: r.ContentLength,
			Host:          tu.Host,
			Trailer:       r.Trailer,
		}).WithContext(ctx)
		if body == nil {
			out.ContentLength = 0
		}

		resp, err := rt.RoundTrip(out)
		if err != nil {
			clientGone := r.Context().Err() != nil || body.readErr() != nil
			if clientGone {
				done(0, context.Canceled) // the client's fault, not the target's
				return nil, nil, err
			}
			done(0, err)
			canRetry := n <= retries &&
				(retryable && !isTimeout(err) || isDialError(err) && (body == nil || !body.read.Load()))
			if !canRetry {
				return nil, nil, err
			}
			lastErr = err
			tried = appendTried(st, tried, t)
			if backoff(ctx, ex.Retry, n) != nil {
				return nil, nil, err
			}
			continue
		}
		lastErr = nil
		if retryable && n <= retries && retryStatus(ex.Retry, resp.StatusCode) {
			done(resp.StatusCode, nil)
			held = resp
			tried = appendTried(st, tried, t)
			if err := backoff(ctx, ex.Retry, n); err != nil {
				if r.Context().Err() != nil { // the client left: nobody to send it to
					_ = held.Body.Close()
					return nil, nil, err
				}
				return held, nil, nil
			}
			continue
		}
		return resp, done, nil
	}
}

// echoRequestID sets the request id header in h unless it is already there.
// The value shares st's array with the outgoing request's header.
func (st *attempt) echoRequestID(h http.Header, ex *Exchange) {
	if ex.RequestIDHeader == "" || ex.RequestID == "" {
		return
	}
	k := http.CanonicalHeaderKey(ex.RequestIDHeader)
	if vs := h[k]; len(vs) == 1 && vs[0] == ex.RequestID {
		return
	}
	st.vals[4] = ex.RequestID
	h[k] = st.vals[4:5:5]
}

func appendTried(st *attempt, tried []*upstream.Target, t *upstream.Target) []*upstream.Target {
	if tried == nil {
		tried = st.tried[:0]
	}
	return append(tried, t)
}

// setPath sets u's path to the target's base path joined with the encoded
// path p, so that u.EscapedPath() is exactly the joined string.
func setPath(u *url.URL, target *url.URL, p string) {
	raw := p
	if base := target.EscapedPath(); base != "" && base != "/" {
		base = strings.TrimSuffix(base, "/")
		switch {
		case p == "" || p == "/":
			raw = base + "/"
			if p == "" {
				raw = base
			}
		case p[0] == '/':
			raw = base + p
		default:
			raw = base + "/" + p
		}
	}
	if raw == "" {
		raw = "/"
	}
	if strings.IndexByte(raw, '%') < 0 {
		u.Path = raw
		return
	}
	dec, err := url.PathUnescape(raw)
	if err != nil {
		// Not valid percent-encoding: send it as it is anyway.
		dec = raw
	}
	u.Path, u.RawPath = dec, raw
}

func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func retryStatus(r *config.Retry, status int) bool {
	for _, s := range r.OnStatus {
		if s == status {
			return true
		}
	}
	return false
}

// backoffDelay is the wait before attempt n+1: Backoff doubled n-1 times,
// capped at MaxBackoff.
func backoffDelay(r *config.Retry, n int) time.Duration {
	if r == nil || r.Backoff <= 0 {
		return 0
	}
	d := r.Backoff
	for i := 1; i < n; i++ {
		if r.MaxBackoff > 0 && d >= r.MaxBackoff || d > time.Duration(1<<62)/2 {
			break
		}
		d *= 2
	}
	if r.MaxBackoff > 0 && d > r.MaxBackoff {
		d = r.MaxBackoff
	}
	return d
}

// backoff waits backoffDelay(r, n), returning early with ctx's error when
// ctx ends.
func backoff(ctx context.Context, r *config.Retry, n int) error {
	d := backoffDelay(r, n)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fail answers the error of an exchange that sent nothing to the client.
func (f *Forwarder) fail(w http.ResponseWriter, r *http.Request, ex *Exchange, err error, bodyErr error) {
	fl := classify(err, r.Context().Err() != nil, bodyErr)
	ex.Status = fl.status
	if bodyErr != nil {
		ex.Err = bodyErr
	} else {
		ex.Err = &UpstreamError{Upstream: ex.Upstream.Name(), Target: ex.Target, Status: fl.status, Err: err}
	}
	if fl.status == StatusClientClosedRequest {
		return
	}
	if fl.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(fl.retryAfter))
	}
	if fl.status == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close")
	}
	WriteError(w, fl.status, fl.message, ex.RequestID)
}

// respond writes resp to w. bodyErr is an error reading the upstream's body,
// clientErr an error writing to the client.
func (f *Forwarder) respond(w http.ResponseWriter, ex *Exchange, st *attempt, resp *http.Response) (bodyErr, clientErr error) {
	h := w.Header()
	copyResponseHeader(h, resp.Header)
	announced := 0
	if len(resp.Trailer) > 0 {
		keys := make([]string, 0, len(resp.Trailer))
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		h["Trailer"] = keys
		announced = len(keys)
	}
	st.echoRequestID(h, ex)
	if hasOps(&ex.ResponseHeaders) {
		applyOps(h, &ex.ResponseHeaders)
	}
	w.WriteHeader(resp.StatusCode)

	eventStream := isEventStream(resp.Header)
	if announced > 0 || eventStream {
		// With trailers: force chunking so net/http does not compute a
		// Content-Length. For event streams: the client sees the headers now.
		if err := flush(w); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return nil, err
		}
	}

	bodyErr, clientErr = f.copyBody(w, resp.Body, resp.ContentLength == -1, eventStream)
	if bodyErr != nil || clientErr != nil {
		return bodyErr, clientErr
	}

	if len(resp.Trailer) > 0 {
		keys := h["Trailer"]
		for k, vs := range resp.Trailer {
			if isAnnounced(keys[:announced], k) {
				h[k] = vs
			} else {
				h[http.TrailerPrefix+k] = vs
			}
		}
	}
	return nil, nil
}

func isAnnounced(keys []string, k string) bool {
	for _, a := range keys {
		if a == k {
			return true
		}
	}
	return false
}

func isEventStream(h http.Header) bool {
	vs := h["Content-Type"]
	if len(vs) == 0 {
		return false
	}
	mt, _, _ := strings.Cut(vs[0], ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// copyBody streams src to w with a pooled buffer. With flushAlways it flushes
// after every write; with streaming, after every write of a short read.
func (f *Forwarder) copyBody(w http.ResponseWriter, src io.Reader, streaming, flushAlways bool) (bodyErr, clientErr error) {
	bp := f.bufs.Get().(*[]byte)
	defer f.bufs.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil, werr
			}
			// A short read means the upstream paused: what it sent so far
			// goes out now. Event streams go out after every read.
			if flushAlways || streaming && n < len(buf) {
				if err := flush(w); err != nil && !errors.Is(err, http.ErrNotSupported) {
					return nil, err
				}
			}
		}
		if rerr == io.EOF {
			return nil, nil
		}
		if rerr != nil {
			return rerr, nil
		}
	}
}

// flush flushes w or the first writer it wraps that can, without allocating.
func flush(w http.ResponseWriter) error {
	for {
		switch t := w.(type) {
		case interface{ FlushError() error }:
			return t.FlushError()
		case http.Flusher:
			t.Flush()
			return nil
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return http.ErrNotSupported
		}
	}
}
