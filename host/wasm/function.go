package wasm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
)

// Function invocation errors; Invoke wraps them with the function's name and
// the cause. The gateway maps them to HTTP statuses.
var (
	// ErrThrottled: every instance stayed busy for the queue timeout (429).
	ErrThrottled = errors.New("function throttled")
	// ErrTimeout: the invocation ran past its timeout (504).
	ErrTimeout = errors.New("function timed out")
	// ErrFailed: the function trapped, panicked, exited or returned an error
	// code; the instance was discarded (502).
	ErrFailed = errors.New("function failed")
	// ErrBadResponse: the function's response is missing or malformed (502).
	ErrBadResponse = errors.New("malformed function response")
)

// DefaultMaxResponseBytes caps the response JSON a function may set.
const DefaultMaxResponseBytes = 8 << 20

// sigHandleEvent is abi.ExportHandleEvent's signature.
var sigHandleEvent = sig{params: []api.ValueType{i32}, results: []api.ValueType{i32}}

// Function is a loaded Wasm function backend with its own instance pool: at
// most Concurrency invocations run at once, excess ones wait up to the queue
// timeout. It is safe for concurrent use.
type Function struct {
	p       *Plugin // compiled module, runtime and host wiring
	cfg     *config.Function
	timeout time.Duration
	queue   time.Duration
	packed  bool // exports abi.ExportEventPacked

	sem  chan struct{}    // one token per live instance
	idle chan *fnInstance // warm instances

	m functionMetrics
}

// fnInstance is an instance with its handle_event export resolved once.
type fnInstance struct {
	in     *instance
	handle api.Function
	calls  *callShard // where its calls are counted; nil without metrics
}

// invocation is the per-call state the event host functions reach via ctx.
type invocation struct {
	event []byte
	resp  []byte
	set   bool
}

// functionMetrics are one function's children of the host's function vectors.
type functionMetrics struct {
	coldStarts, throttles prometheus.Counter
	errors                *prometheus.CounterVec // curried by function
	calls                 *fnCalls               // invocations, duration, concurrency
}

// functionVecs are the function metric vectors of a Host.
type functionVecs struct {
	coldStarts, throttles, errors *prometheus.CounterVec
	calls                         *fnCollector
}

// functionVecs registers (or finds) the function metric vectors.
func (h *Host) functionVecs() (*functionVecs, error) {
	if h.opts.Registerer == nil {
		return nil, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fnVecs != nil {
		return h.fnVecs, nil
	}
	fn := []string{"function"}
	cv := func(name, help string, labels []string) (*prometheus.CounterVec, error) {
		c, err := register(h.opts.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
		if err != nil {
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
		return c.(*prometheus.CounterVec), nil
	}
	v := &functionVecs{}
	var err error
	if v.coldStarts, err = cv("gateway_function_cold_starts_total", "Invocations that had to create a new instance, by function.", fn); err != nil {
		return nil, err
	}
	if v.throttles, err = cv("gateway_function_throttles_total", "Invocations refused with 429 because every instance stayed busy, by function.", fn); err != nil {
		return nil, err
	}
	if v.errors, err = cv("gateway_function_errors_total", "Failed invocations by function and reason (timeout, trap, exit, memory, abi, error, response).", []string{"function", "reason"}); err != nil {
		return nil, err
	}
	c, err := register(h.opts.Registerer, newFnCollector())
	if err != nil {
		return nil, fmt.Errorf("register gateway_function_invocations_total, gateway_function_duration_seconds and gateway_function_concurrent_executions: %w", err)
	}
	v.calls = c.(*fnCollector)
	h.fnVecs = v
	return v, nil
}

// LoadFunction compiles and validates the function cfg, creates its
// cfg.MinWarm warm instances (running _initialize and on_configure) and
// returns it. A config rejected by on_configure is a *ConfigError.
func (h *Host) LoadFunction(ctx context.Context, cfg *config.Function) (*Function, error) {
	f, err := h.loadFunction(ctx, cfg)
	if err != nil {
		if f != nil {
			f.close(ctx)
		}
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("function %q: %w", cfg.Name, err)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		f.close(ctx)
		return nil, fmt.Errorf("function %q: wasm host is closed", cfg.Name)
	}
	h.functions = append(h.functions, f)
	h.mu.Unlock()
	return f, nil
}

func (h *Host) loadFunction(ctx context.Context, cfg *config.Function) (*Function, error) {
	mem := cfg.MemoryBytes
	if mem == 0 {
		mem = config.DefaultFunctionMemory
	}
	pages := (mem + pageSize - 1) / pageSize
	if pages > 65536 {
		return nil, fmt.Errorf("memory limit %d bytes is over the 4 GiB wasm32 maximum; lower memory", mem)
	}
	size := cfg.Concurrency
	if size <= 0 {
		size = 4 * runtime.GOMAXPROCS(0)
	}
	f := &Function{
		cfg: cfg, timeout: cfg.Timeout, queue: cfg.QueueTimeout,
		sem: make(chan struct{}, size), idle: make(chan *fnInstance, size),
	}
	if f.timeout <= 0 {
		f.timeout = config.DefaultFunctionTimeout
	}
	if f.queue <= 0 {
		f.queue = config.DefaultFunctionQueueTimeout
	}
	// The plugin machinery (runtime, instantiation, host functions) is shared;
	// the function keeps its own pool.
	p := &Plugin{
		h: h, name: cfg.Name, pages: uint32(pages), timeout: f.timeout,
		cfg: &config.Plugin{
			Name: cfg.Name, Source: cfg.Source, ConfigJSON: cfg.ConfigJSON, Sensitive: cfg.Sensitive,
			MemoryBytes: mem, Timeout: f.timeout, PoolSize: size, OnError: config.OnErrorDeny, Range: cfg.Range,
		},
		sem: make(chan struct{}), idle: make(chan *instance),
		metricIDs: make(map[string]int32), closed: make(chan struct{}),
	}
	if cfg.SoftTimeout {
		p.interruption = interruptNone
	}
	f.p = p
	vecs, err := h.functionVecs()
	if err != nil {
		return nil, err
	}
	if vecs != nil {
		f.m = functionMetrics{
			coldStarts: vecs.coldStarts.WithLabelValues(cfg.Name),
			throttles:  vecs.throttles.WithLabelValues(cfg.Name),
			errors:     vecs.errors.MustCurryWith(prometheus.Labels{"function": cfg.Name}),
			calls:      vecs.calls.calls(cfg.Name, min(size, 4*runtime.GOMAXPROCS(0))),
		}
	}
	bin, err := os.ReadFile(cfg.Source)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w; check the function's source path", cfg.Source, err)
	}
	if err := h.compile(ctx, p, bin); err != nil {
		return f, err
	}
	if err := validateFunction(p.compiled); err != nil {
		return f, fmt.Errorf("%s: %w", cfg.Source, err)
	}
	_, f.packed = p.compiled.ExportedFunctions()[abi.ExportEventPacked]
	mc := h.moduleConfig(p)
	for k, v := range cfg.Env {
		mc = mc.WithEnv(k, v)
	}
	p.modCfg = mc
	warm := max(cfg.MinWarm, 1) // at least one, to fail fast
	warm = min(warm, size)
	for range warm {
		f.sem <- struct{}{}
		fi, err := f.instantiate(ctx)
		if err != nil {
			<-f.sem
			return f, err
		}
		f.idle <- fi
	}
	if f.m.calls != nil {
		f.m.calls.track(f)
	}
	if cfg.IdleTimeout > 0 {
		go reapEvery(f.p.closed, reapInterval(cfg.IdleTimeout), f.closeIdle)
	}
	return f, nil
}

// closeIdle closes the idle instances above min_warm that served no call
// for the idle timeout, so that the instances of a burst give their memory
// back (idle time as closeIdle counts it, for plugins alike).
func (f *Function) closeIdle(now time.Time) {
	n := closeIdle(f.idle, f.sem, f.p.closed, f.cfg.MinWarm, f.cfg.IdleTimeout, f.timeout, now,
		func(fi *fnInstance) *instance { return fi.in })
	if n > 0 {
		f.p.h.logger.Debug("function instances closed after idling", "function", f.cfg.Name, "closed", n, "live", len(f.sem))
	}
}

// validateFunction checks a compiled module against the function ABI.
func validateFunction(m wazero.CompiledModule) error {
	exports := m.ExportedFunctions()
	if _, ok := exports[abi.ExportABIV1]; !ok {
		return fmt.Errorf("exports no ABI version marker; export a no-op function %q (the Go SDK does) or rebuild it against ABI v1", abi.ExportABIV1)
	}
	if _, ok := m.ExportedMemories()[abi.ExportMemory]; !ok {
		return fmt.Errorf("does not export its memory as %q; export it so host functions can read arguments", abi.ExportMemory)
	}
	d, ok := exports[abi.ExportHandleEvent]
	if !ok {
		return fmt.Errorf("exports no %q, so it is not a function; build it with sdk/go/function (function.HandleFunc) or export %q %s", abi.ExportHandleEvent, abi.ExportHandleEvent, sigHandleEvent)
	}
	if !sameSig(d, sigHandleEvent) {
		return fmt.Errorf("export %q has signature %s, want %s; fix the export to match the function ABI", abi.ExportHandleEvent, sig{d.ParamTypes(), d.ResultTypes()}, sigHandleEvent)
	}
	for _, want := range []struct {
		name string
		sig  sig
	}{{abi.ExportOnConfigure, sigConfigure}, {abi.ExportInitialize, sig{}}, {abi.ExportEventPacked, sig{}}} {
		if d, ok := exports[want.name]; ok && !sameSig(d, want.sig) {
			return fmt.Errorf("export %q has signature %s, want %s; fix the export to match ABI v1", want.name, sig{d.ParamTypes(), d.ResultTypes()}, want.sig)
		}
	}
	for _, d := range m.ImportedFunctions() {
		mod, name, _ := d.Import()
		switch mod {
		case abi.WASIModule:
		case abi.HostModule:
			hf, ok := hostFuncByName[name]
			if !ok {
				return fmt.Errorf("imports unknown host function %s.%s; remove it or upgrade the gateway", mod, name)
			}
			if !sameSig(d, hf.sig) {
				return fmt.Errorf("imports %s.%s with signature %s, want %s; fix the import to match ABI v1", mod, name, sig{d.ParamTypes(), d.ResultTypes()}, hf.sig)
			}
		default:
			return fmt.Errorf("imports %s.%s from unknown module %q; functions may import only %q and %q", mod, name, mod, abi.HostModule, abi.WASIModule)
		}
	}
	for _, d := range m.ImportedMemories() {
		mod, name, _ := d.Import()
		return fmt.Errorf("imports memory %s.%s; a function must define and export its own memory", mod, name)
	}
	return nil
}

// instantiate creates one instance and resolves handle_event.
func (f *Function) instantiate(ctx context.Context) (*fnInstance, error) {
	in, err := f.p.instantiate(ctx)
	if err != nil {
		return nil, err
	}
	fi := &fnInstance{in: in, handle: in.mod.ExportedFunction(abi.ExportHandleEvent)}
	if f.m.calls != nil {
		fi.calls = f.m.calls.shard()
	}
	return fi, nil
}

// Packed reports whether the function asked for packed HTTP events
// (abi.ExportEventPacked): Invoke's event must then be abi.AppendPackedEvent's
// encoding rather than JSON.
func (f *Function) Packed() bool { return f.packed }

// Name returns the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// Idle returns the number of warm idle instances.
func (f *Function) Idle() int { return len(f.idle) }

// Live returns the number of live instances, idle or running.
func (f *Function) Live() int { return len(f.sem) }

// acquire returns a warm instance, creates one while the concurrency allows
// (a cold start), or waits up to the queue timeout.
func (f *Function) acquire(ctx context.Context) (*fnInstance, error) {
	// Two one-case selects, not one with both cases: those compile to plain
	// non-blocking channel operations, without selectgo.
	select {
	case <-f.p.closed:
		return nil, fmt.Errorf("function %q is closed (config reloaded); retry the request", f.cfg.Name)
	default:
	}
	select {
	case fi := <-f.idle:
		return fi, nil
	default:
	}
	create := func() (*fnInstance, error) {
		if f.m.coldStarts != nil {
			f.m.coldStarts.Inc()
		}
		fi, err := f.instantiate(ctx)
		if err != nil {
			<-f.sem
			f.countError("instantiate")
			f.p.h.logger.ErrorContext(ctx, "function instantiation failed", "function", f.cfg.Name, "error", err)
			return nil, fmt.Errorf("function %q: cold start: %w: %w", f.cfg.Name, ErrFailed, err)
		}
		return fi, nil
	}
	select {
	case f.sem <- struct{}{}:
		return create()
	default:
	}
	t := time.NewTimer(f.queue)
	defer t.Stop()
	select {
	case fi := <-f.idle:
		return fi, nil
	case f.sem <- struct{}{}:
		return create()
	case <-t.C:
		if f.m.throttles != nil {
			f.m.throttles.Inc()
		}
		return nil, fmt.Errorf("function %q: all %d instances stayed busy for %s: %w", f.cfg.Name, cap(f.sem), f.queue, ErrThrottled)
	case <-ctx.Done():
		return nil, fmt.Errorf("function %q: waiting for an instance: %w", f.cfg.Name, ctx.Err())
	case <-f.p.closed:
		return nil, fmt.Errorf("function %q is closed (config reloaded); retry the request", f.cfg.Name)
	}
}

// release pools a healthy instance or frees the slot of a discarded one.
func (f *Function) release(ctx context.Context, fi *fnInstance) {
	in := fi.in
	in.ex = nil
	in.callStatus = 0
	clear(in.callHeader)
	in.callBody = in.callBody[:0]
	if in.mod == nil {
		<-f.sem
		return
	}
	select {
	case <-f.p.closed:
		in.discard(context.WithoutCancel(ctx))
		<-f.sem
	default:
		f.idle <- fi
	}
}

func (f *Function) countError(reason string) {
	if f.m.errors != nil {
		f.m.errors.WithLabelValues(reason).Inc()
	}
}

// invocationPool recycles per-call state.
var invocationPool = sync.Pool{New: func() any { return new(invocation) }}

// Invoke runs the function on event (FunctionEvent JSON, or packed when Packed
// says the function asked for it; WebSocket events are always JSON) and returns its
// decoded response. ex, when not nil, is the request as plugins see it: it
// lets the function use request host functions (headers, request id in logs).
// Errors wrap ErrThrottled, ErrTimeout, ErrFailed or ErrBadResponse.
func (f *Function) Invoke(ctx context.Context, event []byte, ex *pipeline.Exchange) (*abi.FunctionResponse, error) {
	fi, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	calls := fi.calls
	if calls != nil {
		calls.start()
	}
	in := fi.in
	inv := invocationPool.Get().(*invocation)
	inv.event = event
	in.ex, in.misuse, in.inv = ex, nil, inv
	in.stack[0] = api.EncodeI32(int32(len(event)))
	err, cause := in.callFor(ctx, fi.handle, in.stack[:], f.timeout)
	elapsed := time.Since(in.lastCall) // callFor stamps its start there
	in.inv = nil
	if err == nil && f.cfg.SoftTimeout && elapsed > f.timeout {
		// Nothing interrupts a soft call, so it ran to completion; it is
		// still a timeout, and the instance is discarded like one.
		cause, err = context.DeadlineExceeded, fmt.Errorf("ran %s, past its %s timeout", elapsed.Round(time.Millisecond), f.timeout)
	}
	if calls != nil {
		calls.end(elapsed)
	}
	defer func() {
		inv.event, inv.resp, inv.set = nil, inv.resp[:0], false
		invocationPool.Put(inv)
	}()
	if err != nil {
		err = f.fault(ctx, ex, in, cause, err)
		f.release(ctx, fi)
		return nil, err
	}
	rc := api.DecodeI32(in.stack[0])
	f.release(ctx, fi)
	if rc != 0 {
		err := fmt.Errorf("function %q: %s returned %d: %w", f.cfg.Name, abi.ExportHandleEvent, rc, ErrFailed)
		f.logError(ctx, ex, "function returned an error", "error", err)
		return nil, err
	}
	resp, err := decodeResponse(inv)
	if err != nil {
		err = fmt.Errorf("function %q: %w: %w", f.cfg.Name, ErrBadResponse, err)
		f.logError(ctx, ex, "function returned a malformed response", "response", err)
		return nil, err
	}
	return resp, nil
}

// logError counts a failed invocation under reason and logs it with the
// request id.
func (f *Function) logError(ctx context.Context, ex *pipeline.Exchange, msg, reason string, err error) {
	f.countError(reason)
	reqID := ""
	if ex != nil && ex.Info != nil {
		reqID = ex.Info.RequestID
	}
	f.p.h.logger.ErrorContext(ctx, msg, "function", f.cfg.Name, "reason", reason, "request_id", reqID, "error", err)
}

// responsePool recycles decoded responses and their headers maps; see
// ReleaseResponse.
var responsePool = sync.Pool{New: func() any { return new(abi.FunctionResponse) }}

// maxPooledHeaders bounds the headers map a pooled response keeps.
const maxPooledHeaders = 32

// ReleaseResponse gives a response Invoke returned back for reuse. The
// caller must not use resp afterwards; the strings it held stay valid.
// Calling it is optional.
func ReleaseResponse(resp *abi.FunctionResponse) {
	if len(resp.Headers) > maxPooledHeaders {
		resp.Headers = nil
	}
	responsePool.Put(resp)
}

// decodeResponse parses and checks a FunctionResponse.
func decodeResponse(inv *invocation) (*abi.FunctionResponse, error) {
	if !inv.set {
		return nil, fmt.Errorf("%s returned 0 without calling %s.%s; set a response before returning", abi.ExportHandleEvent, abi.HostModule, abi.FuncEventRespond)
	}
	resp := responsePool.Get().(*abi.FunctionResponse)
	h := resp.Headers
	clear(h) // JSON decodes into a map without clearing it
	*resp = abi.FunctionResponse{Headers: h}
	if len(inv.resp) > 0 && inv.resp[0] == abi.PackedTag {
		if err := abi.DecodePackedResponse(string(inv.resp), resp); err != nil {
			return nil, fmt.Errorf("%w; write it with abi.AppendPackedResponse", err)
		}
	} else if err := json.NewDecoder(bytes.NewReader(inv.resp)).Decode(resp); err != nil {
		return nil, fmt.Errorf("response is not a JSON object with statusCode, headers, body...: %w", err)
	}
	if resp.StatusCode == 0 {
		resp.StatusCode = 200
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		return nil, fmt.Errorf("statusCode %d is not a final HTTP status; use 200 to 599", resp.StatusCode)
	}
	for k, v := range resp.Headers {
		if err := checkHeader(k, v); err != nil {
			return nil, err
		}
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			if err := checkHeader(k, v); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range resp.Cookies {
		if strings.ContainsAny(c, "\r\n\x00") {
			return nil, fmt.Errorf("cookie %q contains CR, LF or NUL; remove them", c)
		}
	}
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("isBase64Encoded is true but body is not standard base64: %w", err)
		}
		resp.Body, resp.IsBase64Encoded = string(b), false
	}
	return resp, nil
}

// checkHeader rejects a header that would break the response.
func checkHeader(k, v string) error {
	if k == "" || strings.ContainsAny(k, " \t\r\n:\x00") || strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("header %q: %q is not a valid header field; names are tokens and values have no CR, LF or NUL", k, v)
	}
	return nil
}

// fault classifies, counts and logs a failed call and closes the instance.
func (f *Function) fault(ctx context.Context, ex *pipeline.Exchange, in *instance, cause, err error) error {
	reason := in.faultReason(cause, err)
	in.discard(context.WithoutCancel(ctx))
	if reason == "canceled" {
		return fmt.Errorf("function %q: client went away: %w", f.cfg.Name, cause)
	}
	f.logError(ctx, ex, "function fault; instance discarded", reason, err)
	if reason == "timeout" {
		return fmt.Errorf("function %q: did not finish within %s: %w", f.cfg.Name, f.timeout, ErrTimeout)
	}
	return fmt.Errorf("function %q: %s: %w: %w", f.cfg.Name, reason, ErrFailed, err)
}

// close closes idle instances and the compiled module; running instances
// are closed with the runtime.
func (f *Function) close(ctx context.Context) {
	f.p.closeOnce.Do(func() {
		close(f.p.closed)
		if f.m.calls != nil {
			f.m.calls.untrack(f)
		}
		for {
			select {
			case fi := <-f.idle:
				if fi.in.mod != nil {
					_ = fi.in.mod.Close(ctx)
				}
				<-f.sem
			default:
				if f.p.compiled != nil {
					_ = f.p.compiled.Close(ctx)
				}
				return
			}
		}
	})
}

// hostEventGet implements abi.FuncEventGet.
func hostEventGet(_ context.Context, in *instance, s []uint64) {
	inv := in.inv
	if inv == nil {
		s[0] = api.EncodeI32(abi.ResultWrongPhase)
		return
	}
	s[0] = in.writeBytes(abi.FuncEventGet, s[0], s[1], inv.event)
}

// hostEventRespond implements abi.FuncEventRespond.
func hostEventRespond(_ context.Context, in *instance, s []uint64) {
	b := in.read(abi.FuncEventRespond, s[0], s[1])
	inv := in.inv
	switch {
	case inv == nil:
		s[0] = api.EncodeI32(abi.ResultWrongPhase)
	case len(b) > DefaultMaxResponseBytes:
		s[0] = api.EncodeI32(abi.ResultTooLarge)
	default:
		inv.resp = append(inv.resp[:0], b...)
		inv.set = true
		s[0] = api.EncodeI32(abi.ResultOK)
	}
}
