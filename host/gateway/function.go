package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/proxy"
	"github.com/wasmgate/gateway/host/wasm"
)

// The messages of the gateway's own function answers, as API Gateway words them.
const (
	msgFunctionTimeout  = "Endpoint request timed out"
	msgFunctionFailed   = "Internal server error"
	msgFunctionThrottle = "Too Many Requests"
)

// maxFunctionEventBody caps a request body handed to a function when the
// server sets no max_body_bytes (API Gateway's own payload limit).
const maxFunctionEventBody = 10 << 20

// loadFunctions compiles every declared function and warms its pool; routes
// share the loaded functions. g.wasm must exist when cfg has functions.
func (g *generation) loadFunctions(ctx context.Context, cfg *config.Gateway) (map[string]*wasm.Function, error) {
	if len(cfg.Functions) == 0 {
		return nil, nil
	}
	out := make(map[string]*wasm.Function, len(cfg.Functions))
	var errs []error
	for _, fc := range cfg.Functions {
		f, err := g.wasm.LoadFunction(ctx, fc)
		if err != nil {
			summary := "Invalid function"
			var ce *wasm.ConfigError
			if errors.As(err, &ce) {
				summary = "Function rejected its config"
			}
			errs = append(errs, &blockError{rng: fc.Range, summary: summary, err: err})
			continue
		}
		out[fc.Name] = f
	}
	return out, errors.Join(errs...)
}

// serveFunction is the final step of a function route: build the event, invoke
// the function and write its response. With plugins it runs as the chain's
// next handler, so request and response phases wrap it as they wrap an upstream.
func (st *reqState) serveFunction(w http.ResponseWriter, r *http.Request) {
	rt := st.rt
	if rt.chain == nil {
		st.fillInfo(r)
	}
	event, err := st.functionEvent(r)
	if err != nil {
		st.ex.Err = err
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			proxy.WriteError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", st.reqID)
			return
		}
		proxy.WriteError(w, http.StatusBadRequest, "Bad Request: the request body could not be read", st.reqID)
		return
	}
	st.fnEx = pipeline.Exchange{Request: r, Info: &st.info, Header: w.Header()}
	resp, err := rt.fn.Invoke(r.Context(), *event, &st.fnEx)
	st.fnEx = pipeline.Exchange{} // the pool must not keep r
	putEventBuf(event)
	if err != nil {
		st.ex.Err = err
		switch {
		case errors.Is(err, wasm.ErrThrottled):
			w.Header().Set("Retry-After", "1")
			proxy.WriteError(w, http.StatusTooManyRequests, msgFunctionThrottle, st.reqID)
		case errors.Is(err, wasm.ErrTimeout):
			proxy.WriteError(w, http.StatusGatewayTimeout, msgFunctionTimeout, st.reqID)
		case r.Context().Err() != nil:
			st.ex.Status = 499 // the client went away; nothing to answer
		default: // the wasm host logged what went wrong
			proxy.WriteError(w, http.StatusBadGateway, msgFunctionFailed, st.reqID)
		}
		return
	}
	writeFunctionResponse(w, r, resp, rt.cfg.ResponseHeaders)
	wasm.ReleaseResponse(resp)
}

// eventBufs recycles encoded events: Invoke copies the event into the guest.
var eventBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledEvent bounds the buffers eventBufs keeps: one event with a large
// body must not pin megabytes in the pool.
const maxPooledEvent = 64 << 10

func putEventBuf(b *[]byte) {
	if cap(*b) <= maxPooledEvent {
		eventBufs.Put(b)
	}
}

// functionEvent encodes r as an API Gateway HTTP API payload 2.0 event, packed
// when the function asked for that (wasm.Function.Packed), into a buffer of
// eventBufs.
func (st *reqState) functionEvent(r *http.Request) (*[]byte, error) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		limit := st.gen.cfg.Server.MaxBodyBytes
		if limit <= 0 {
			limit = maxFunctionEventBody
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return nil, fmt.Errorf("read the request body for function %q: %w", st.rt.fn.Name(), err)
		}
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("request body for function %q: %w", st.rt.fn.Name(), &http.MaxBytesError{Limit: limit})
		}
		body = b
	}
	now := time.Now()
	packed := st.rt.fn.Packed()
	// The event lives in st (no allocation) only while it is encoded: its
	// strings point into r.
	ev := &st.fnEvent
	defer func() { *ev = abi.FunctionEvent{} }()
	*ev = abi.FunctionEvent{
		Version:        "2.0",
		RouteKey:       st.rt.cfg.Key,
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		RequestContext: abi.RequestContext{
			RequestID:  st.reqID,
			RouteKey:   st.rt.cfg.Key,
			Stage:      "$default",
			Time:       eventTime(now),
			TimeEpoch:  now.UnixMilli(),
			DomainName: r.Host,
			HTTP: abi.HTTPContext{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  st.clientIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	for _, v := range r.Header["Cookie"] {
		for c := range strings.SplitSeq(v, ";") {
			if c = strings.TrimSpace(c); c != "" {
				ev.Cookies = append(ev.Cookies, c)
			}
		}
	}
	if !packed {
		// A packed event takes its headers straight from r (packEvent).
		ev.Headers = make(map[string]string, eventHeaderCount(r))
		for k, v := range eventHeaders(r) {
			ev.Headers[k] = v
		}
	}
	if r.URL.RawQuery != "" {
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil || len(q) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(q))
			for k, vs := range q {
				ev.QueryStringParameters[k] = strings.Join(vs, ",")
			}
		}
	}
	if n := len(st.info.Params); n > 0 {
		ev.PathParameters = make(map[string]string, n)
		for _, p := range st.info.Params {
			ev.PathParameters[p.Name] = p.Value
		}
	}
	if api := st.rt.cfg.API; api != nil {
		if api.Stage != "" {
			ev.RequestContext.Stage = api.Stage
		}
		if len(api.Variables) > 0 {
			ev.StageVariables = api.Variables
		}
	}
	if len(st.info.Properties) > 0 {
		ev.RequestContext.Authorizer = &abi.Authorizer{Properties: st.info.Properties}
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	buf := eventBufs.Get().(*[]byte)
	if packed {
		*buf = packEvent((*buf)[:0], ev, r)
		return buf, nil
	}
	b, err := json.Marshal(ev)
	if err != nil {
		putEventBuf(buf)
		return nil, fmt.Errorf("encode the event for function %q: %w", st.rt.fn.Name(), err)
	}
	*buf = append((*buf)[:0], b...)
	return buf, nil
}

// eventHeaders yields the headers of r as an event carries them: lower-case
// names, values joined with commas, without Cookie (the event's cookies) and
// with "host" from r.Host.
func eventHeaders(r *http.Request) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for k, vs := range r.Header {
			if eventHeader(k, r.Host) && !yield(lowerHeader(k), strings.Join(vs, ",")) {
				return
			}
		}
		if r.Host != "" {
			yield("host", r.Host)
		}
	}
}

// eventHeaderCount is how many headers eventHeaders yields.
func eventHeaderCount(r *http.Request) int {
	n := 0
	for k := range r.Header {
		if eventHeader(k, r.Host) {
			n++
		}
	}
	if r.Host != "" {
		n++
	}
	return n
}

// eventHeader reports whether the request header k goes into an event's
// headers: Cookie goes to its cookies, and the host header is r.Host.
func eventHeader(k, host string) bool {
	return k != "Cookie" && (k != "Host" || host == "")
}

// packEvent appends ev packed, with eventHeaders(r) as its headers, written
// straight from r.Header without the map a JSON event needs.
func packEvent(b []byte, ev *abi.FunctionEvent, r *http.Request) []byte {
	return abi.AppendPackedEventHeaders(b, ev, eventHeaderCount(r), func(b []byte) []byte {
		for k, v := range eventHeaders(r) {
			b = abi.AppendPackedString(abi.AppendPackedString(b, k), v)
		}
		return b
	})
}

// writeFunctionResponse maps a function response to HTTP: headers, then
// multiValueHeaders added, every cookie as a Set-Cookie header, the route's
// response header operations, and the (already base64-decoded) body.
func writeFunctionResponse(w http.ResponseWriter, r *http.Request, resp *abi.FunctionResponse, ops config.HeaderOps) {
	h := w.Header()
	// One backing array for the single values: a slice each (what Set
	// allocates) would be an allocation per header.
	vals := make([]string, 0, len(resp.Headers)+1)
	for k, v := range resp.Headers {
		vals = append(vals, v)
		h[textproto.CanonicalMIMEHeaderKey(k)] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	applyHeaderOps(h, ops)
	if resp.Body != "" && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Del("Transfer-Encoding")
	vals = append(vals, strconv.Itoa(len(resp.Body)))
	h["Content-Length"] = vals[len(vals)-1 : len(vals) : len(vals)]
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead && resp.Body != "" {
		_, _ = io.WriteString(w, resp.Body)
	}
}

// lowerHeaders are the lower-case forms of common canonical header names, so
// that an event's header map usually costs no string allocation per header.
var lowerHeaders = func() map[string]string {
	m := map[string]string{}
	for _, h := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Encoding", "Content-Length", "Content-Type",
		"Forwarded", "If-Match", "If-Modified-Since", "If-None-Match", "Origin", "Pragma",
		"Referer", "Traceparent", "Tracestate", "User-Agent", "X-Amzn-Trace-Id", "X-Api-Key",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto",
		"X-Real-Ip", "X-Request-Id",
	} {
		m[h] = strings.ToLower(h)
	}
	return m
}()

// lowerHeader is strings.ToLower(name), without allocating for common names.
func lowerHeader(name string) string {
	if l, ok := lowerHeaders[name]; ok {
		return l
	}
	return strings.ToLower(name)
}

// eventTimeCache holds requestContext.time for the current second: formatting
// it costs more than the rest of the event's scalars together.
var eventTimeCache atomic.Pointer[cachedEventTime]

type cachedEventTime struct {
	unix int64
	s    string
}

// eventTime formats t as requestContext.time ("02/Jan/2006:15:04:05 -0700"),
// reusing the string of the second t falls in.
func eventTime(t time.Time) string {
	sec := t.Unix()
	if c := eventTimeCache.Load(); c != nil && c.unix == sec {
		return c.s
	}
	c := &cachedEventTime{unix: sec, s: t.Format("02/Jan/2006:15:04:05 -0700")}
	eventTimeCache.Store(c)
	return c.s
}
