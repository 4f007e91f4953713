package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/wasmgate/gateway/host/config"
)

// Default limits.
const (
	DefaultMaxBodyBytes         = 4 << 20
	DefaultMaxResponseBodyBytes = 4 << 20
)

// Options configures a Chain.
type Options struct {
	// MaxBodyBytes caps the request body buffered for request-body phases;
	// larger bodies get 413. 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxResponseBodyBytes caps the response body buffered for response-body
	// phases; larger bodies get 502. 0 means DefaultMaxResponseBodyBytes.
	MaxResponseBodyBytes int64
	// WriteError writes an error response; nil writes
	// {"message":...,"requestId":...} as JSON.
	WriteError func(w http.ResponseWriter, status int, msg, requestID string)
}

// Chain runs an ordered list of plugins around a final handler.
type Chain struct {
	plugins []Plugin
	phases  Phase // union of all plugins' phases
	opts    Options
	states  sync.Pool
}

// New returns a chain running plugins in order. With no plugins, Handle just
// calls next.
func New(plugins []Plugin, opts Options) *Chain {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxResponseBodyBytes <= 0 {
		opts.MaxResponseBodyBytes = DefaultMaxResponseBodyBytes
	}
	if opts.WriteError == nil {
		opts.WriteError = writeJSONError
	}
	c := &Chain{plugins: plugins, opts: opts}
	for _, p := range plugins {
		c.phases |= p.Phases()
	}
	c.states.New = func() any {
		return &state{c: c, inst: make([]Instance, len(plugins))}
	}
	return c
}

// Len returns the number of plugins in the chain.
func (c *Chain) Len() int { return len(c.plugins) }

// state is the per-request working set, pooled by the chain.
type state struct {
	c       *Chain
	ex      Exchange
	inst    []Instance // nil entry: not acquired, or faulted under "allow"
	reached int        // plugins whose request phases ran (or were skipped normally)
	failed  bool       // an error response was written or must be
	cw      captureWriter
	body    bytes.Reader
}

// Handle runs the chain for one request around next.
func (c *Chain) Handle(w http.ResponseWriter, r *http.Request, info *Request, next http.Handler) {
	if len(c.plugins) == 0 {
		next.ServeHTTP(w, r)
		return
	}
	if info == nil {
		info = &Request{}
	}
	st := c.states.Get().(*state)
	st.ex.reset(r, info)
	st.reached, st.failed = 0, false
	defer func() {
		st.finish()
		st.ex.Request, st.ex.Info = nil, nil
		c.states.Put(st)
	}()

	ctx := r.Context()
	for i, p := range c.plugins {
		inst, err := p.Acquire(ctx)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, ErrBusy) {
				status = http.StatusServiceUnavailable
			}
			if p.OnError() == config.OnErrorAllow {
				continue
			}
			st.fail(w, status)
			return
		}
		st.inst[i] = inst
	}

	// Request headers.
	for i := range c.plugins {
		if !st.runs(i, PhaseRequestHeaders) {
			st.reached = i + 1
			continue
		}
		act, ok := st.run(i, PhaseRequestHeaders)
		if !ok {
			st.fail(w, http.StatusInternalServerError)
			return
		}
		if act == ActionRespond || st.ex.Responded {
			st.shortCircuit(w, i)
			return
		}
		st.reached = i + 1
	}

	// Request body.
	if c.phases&PhaseRequestBody != 0 {
		if !st.bufferRequestBody(w) {
			return
		}
		for i := range c.plugins {
			if !st.runs(i, PhaseRequestBody) {
				continue
			}
			act, ok := st.run(i, PhaseRequestBody)
			if !ok {
				st.fail(w, http.StatusInternalServerError)
				return
			}
			if act == ActionRespond || st.ex.Responded {
				st.shortCircuit(w, i)
				return
			}
		}
		st.body.Reset(st.ex.RequestBody)
		r.Body = io.NopCloser(&st.body)
		r.ContentLength = int64(len(st.ex.RequestBody))
		if r.Header.Get("Content-Length") != "" || len(st.ex.RequestBody) > 0 {
			r.Header.Set("Content-Length", strconv.Itoa(len(st.ex.RequestBody)))
		}
		r.Header.Del("Transfer-Encoding")
		r.TransferEncoding = nil
	}

	// Plugins without a response or log phase are done: their instances go
	// back to the pool before the upstream exchange, which may take long, so
	// a small pool serves many requests in flight.
	for i, p := range c.plugins {
		if st.inst[i] != nil && p.Phases()&(PhaseResponseHeaders|PhaseResponseBody|PhaseLog) == 0 {
			st.inst[i].Release(ctx)
			st.inst[i] = nil
		}
	}

	// Final handler, then response phases.
	st.cw.reset(w, st, c.phases&PhaseResponseBody != 0)
	next.ServeHTTP(&st.cw, r)
	st.cw.finish()
}

// runs reports whether plugin i is live and implements phase.
func (st *state) runs(i int, phase Phase) bool {
	return st.inst[i] != nil && st.c.plugins[i].Phases()&phase != 0
}

// run calls one phase of plugin i. It returns ok=false when the fault policy
// denies the request; a fault under "allow" drops the plugin and continues.
func (st *state) run(i int, phase Phase) (Action, bool) {
	act, err := st.inst[i].Run(st.ex.Request.Context(), phase, &st.ex)
	if err == nil {
		return act, true
	}
	st.inst[i].Release(st.ex.Request.Context())
	st.inst[i] = nil
	if st.c.plugins[i].OnError() == config.OnErrorAllow {
		return ActionContinue, true
	}
	return ActionContinue, false
}

// runResponse runs the response phases of plugins [0, upto) in reverse order.
// It reports false when a fault denied the request.
func (st *state) runResponse(upto int, phase Phase) bool {
	for i := upto - 1; i >= 0; i-- {
		if !st.runs(i, phase) {
			continue
		}
		if _, ok := st.run(i, phase); !ok {
			return false
		}
	}
	return true
}

// shortCircuit finishes a request a plugin at index i answered locally.
func (st *state) shortCircuit(w http.ResponseWriter, i int) {
	st.ex.Responded = true
	if st.ex.Status == 0 {
		st.ex.Status = http.StatusOK
	}
	st.ex.ResponseBodyBuffered = true
	if !st.runResponse(i, PhaseResponseHeaders) || !st.runResponse(i, PhaseResponseBody) {
		st.fail(w, http.StatusInternalServerError)
		return
	}
	st.writeLocal(w)
}

// writeLocal writes the exchange's status, headers and buffered body to w.
func (st *state) writeLocal(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range st.ex.Header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(st.ex.ResponseBody)))
	h.Del("Transfer-Encoding")
	w.WriteHeader(st.ex.Status)
	if st.ex.Request.Method != http.MethodHead {
		_, _ = w.Write(st.ex.ResponseBody)
	}
}

func (st *state) fail(w http.ResponseWriter, status int) {
	st.failed = true
	st.ex.Status = status
	msg := "Internal server error"
	switch status {
	case http.StatusServiceUnavailable:
		msg = "Service unavailable"
	case http.StatusRequestEntityTooLarge:
		msg = "Request body too large"
	case http.StatusBadGateway:
		msg = "Bad gateway"
	}
	st.c.opts.WriteError(w, status, msg, st.ex.Info.RequestID)
}

func (st *state) bufferRequestBody(w http.ResponseWriter) bool {
	r := st.ex.Request
	if r.Body != nil && r.Body != http.NoBody {
		max := st.c.opts.MaxBodyBytes
		if r.ContentLength > max {
			st.fail(w, http.StatusRequestEntityTooLarge)
			return false
		}
		buf := bytes.NewBuffer(st.ex.RequestBody[:0])
		n, err := buf.ReadFrom(io.LimitReader(r.Body, max+1))
		st.ex.RequestBody = buf.Bytes()
		if n > max {
			st.fail(w, http.StatusRequestEntityTooLarge)
			return false
		}
		if err != nil {
			st.fail(w, http.StatusBadRequest)
			return false
		}
		_ = r.Body.Close()
	}
	st.ex.RequestBodyBuffered = true
	return true
}

// finish runs on_log for every live instance and releases them all.
func (st *state) finish() {
	for i := range st.inst {
		if st.runs(i, PhaseLog) {
			st.run(i, PhaseLog)
		}
	}
	for i, in := range st.inst {
		if in != nil {
			in.Release(st.ex.Request.Context())
			st.inst[i] = nil
		}
	}
}

func writeJSONError(w http.ResponseWriter, status int, msg, requestID string) {
	b, _ := json.Marshal(struct {
		Message   string `json:"message"`
		RequestID string `json:"requestId,omitempty"`
	}{msg, requestID})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
