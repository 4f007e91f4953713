package wasm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/schema"
)

// instance is one guest module instance with its reusable per-request state.
type instance struct {
	p   *Plugin
	mod api.Module // nil once closed
	mem api.Memory
	// linear backs mem (memory.go); nil for a module without memory.
	linear *linearMemory
	fns    [len(phaseExports)]api.Function
	stack  [1]uint64

	// ctx is what calls timed by the instance's own timer (callFor) run
	// with: it carries only the instance (instanceFrom), so such a call
	// allocates no context and wazero's per-call lookup of a key of its own
	// does not walk the request's context chain. callCtx is the caller's
	// context meanwhile; host functions get it instead of ctx.
	ctx, callCtx context.Context

	// Per-call state, reset by each Run.
	ex     *pipeline.Exchange
	misuse error       // set by a host function before it traps
	inv    *invocation // a function's handle_event call (function.go)

	// The interrupt flag of an interruptFlag instance (nil otherwise), the
	// context.AfterFunc that sets it, and the set that has not finished
	// (instance.call).
	flag      api.MutableGlobal
	interrupt func()
	pending   sync.WaitGroup

	// The timer of calls timed by instance.callFor and the state its tick
	// shares with the call in progress.
	timer *time.Timer
	timed timed
	// lastCall is when the last call through callFor began: a pooled
	// instance (plugin or function) idle for its idle_timeout after that
	// call's latest end, lastCall plus the timeout, is closed (reap.go).
	lastCall time.Time

	// Configure-time state.
	configuring bool
	phaseMask   uint32
	configErr   string

	schemas *schema.Table // json_schema_* (schema.go), created on first use

	// Last http_call response, reused.
	callStatus int
	callHeader http.Header
	callBody   []byte

	scratch []byte

	interned  map[string]string // header names and property keys (intern)
	canonical map[string]string // header names as guests wrote them -> canonical (lookup)
}

// Interface guard.
var _ pipeline.Instance = (*instance)(nil)

type instanceKey struct{}

// instanceFrom returns the instance a host function was called for.
func instanceFrom(ctx context.Context) *instance {
	in, _ := ctx.Value(instanceKey{}).(*instance)
	return in
}

// abiMisuseError is a guest breaking the ABI; the host function traps with it.
type abiMisuseError struct {
	fn, msg string
}

func (e *abiMisuseError) Error() string {
	return fmt.Sprintf("abi misuse in %s.%s: %s", abi.HostModule, e.fn, e.msg)
}

// trap records an ABI misuse and aborts the guest call.
func (in *instance) trap(fn, format string, args ...any) {
	err := &abiMisuseError{fn: fn, msg: fmt.Sprintf(format, args...)}
	in.misuse = err
	panic(err)
}

// instantiate creates an instance under the host's instantiation deadline,
// running _initialize and on_configure.
func (p *Plugin) instantiate(ctx context.Context) (*instance, error) {
	in := &instance{p: p, phaseMask: ^uint32(0), callHeader: make(http.Header), lastCall: time.Now()}
	in.ctx = context.WithValue(context.Background(), instanceKey{}, in)
	ctx, cancel := context.WithTimeout(ctx, p.h.opts.InstantiateTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, instanceKey{}, in)
	in.configuring = true
	mod, err := p.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, allocatorFor(in)), p.compiled, p.modCfg)
	if in.linear != nil {
		in.linear.exit() // busy since the start functions ran in it
	}
	if err == nil && p.instrumented {
		err = in.initialize(ctx, mod)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("instantiate (%s): did not finish within %s: %w; make its initialization terminate", abi.ExportInitialize, p.h.opts.InstantiateTimeout, err)
		}
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	in.mod = mod
	in.mem = mod.ExportedMemory(abi.ExportMemory)
	for i, pe := range phaseExports {
		in.fns[i] = mod.ExportedFunction(pe.name)
	}
	if f := mod.ExportedFunction(abi.ExportOnConfigure); f != nil {
		in.stack[0] = api.EncodeI32(int32(len(p.cfg.ConfigJSON)))
		err := in.call(ctx, f, in.stack[:])
		if err != nil {
			_ = mod.Close(ctx)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s did not finish within %s: %w; make it terminate", abi.ExportOnConfigure, p.h.opts.InstantiateTimeout, err)
			}
			return nil, fmt.Errorf("%s: %w", abi.ExportOnConfigure, err)
		}
		if rc := api.DecodeI32(in.stack[0]); rc != 0 {
			_ = mod.Close(ctx)
			msg := in.configErr
			if msg == "" {
				msg = fmt.Sprintf("%s returned %d without a reason", abi.ExportOnConfigure, rc)
			}
			return nil, &ConfigError{Plugin: p.name, Message: msg}
		}
	}
	in.configuring = false
	return in, nil
}

// Run implements pipeline.Instance.
func (in *instance) Run(ctx context.Context, phase pipeline.Phase, ex *pipeline.Exchange) (pipeline.Action, error) {
	if in.mod == nil {
		return pipeline.ActionContinue, fmt.Errorf("plugin %q: instance already discarded", in.p.name)
	}
	idx := phaseIndex(phase)
	if idx < 0 || in.fns[idx] == nil {
		return pipeline.ActionContinue, nil
	}
	in.ex, in.misuse = ex, nil
	err, cause := in.callFor(ctx, in.fns[idx], in.stack[:], in.p.timeout)
	in.ex = nil
	if err != nil {
		return pipeline.ActionContinue, in.fault(ctx, phase, cause, err)
	}
	if phase == pipeline.PhaseLog {
		return pipeline.ActionContinue, nil
	}
	switch api.DecodeU32(in.stack[0]) {
	case abi.ActionContinue:
		return pipeline.ActionContinue, nil
	case abi.ActionRespond:
		return pipeline.ActionRespond, nil
	default:
		err := fmt.Errorf("%s returned unknown action %d; return %d (continue) or %d (respond)", phase, in.stack[0], abi.ActionContinue, abi.ActionRespond)
		return pipeline.ActionContinue, in.fault(ctx, phase, nil, err)
	}
}

// fault classifies, counts and logs a failed call, then closes the instance.
func (in *instance) fault(ctx context.Context, phase pipeline.Phase, cause, err error) error {
	reason := in.faultReason(cause, err)
	p := in.p
	p.h.countFault(p.name, phase.String(), reason)
	if reason != "canceled" {
		p.h.logger.ErrorContext(ctx, "plugin fault; instance discarded", "plugin", p.name, "phase", phase.String(), "reason", reason, "error", err)
	}
	in.discard(context.WithoutCancel(ctx))
	return fmt.Errorf("plugin %q: %s: %s: %w", p.name, phase, reason, err)
}

// discard closes the instance's module; the instance serves no more calls.
func (in *instance) discard(ctx context.Context) {
	_ = in.mod.Close(ctx)
	in.mod = nil
}

// Release implements pipeline.Instance.
func (in *instance) Release(ctx context.Context) {
	in.callStatus = 0
	clear(in.callHeader)
	in.callBody = in.callBody[:0]
	in.p.release(ctx, in)
}

func (h *Host) countFault(plugin, phase, reason string) {
	if h.faults != nil {
		h.faults.WithLabelValues(plugin, phase, reason).Inc()
	}
}

// nearMemoryLimit reports whether the instance's memory is within the last
// quarter (at most 4 MiB, the Go runtime's arena size) of its limit: a trap
// there is most likely an allocation the limit refused.
func (in *instance) nearMemoryLimit() bool {
	if in.mem == nil {
		return false
	}
	limit := uint64(in.p.pages) * pageSize
	return uint64(in.mem.Size())+min(4<<20, limit/4) > limit
}

// faultReason classifies why a call into the instance failed, for the
// gateway_plugin_faults_total and function error metrics: abi (the guest
// misused a host function), timeout, canceled, memory (trapped near its memory
// cap), exit (proc_exit) or trap.
func (in *instance) faultReason(cause, err error) string {
	var exit *sys.ExitError
	switch {
	case in.misuse != nil:
		return "abi"
	case errors.Is(cause, context.DeadlineExceeded):
		return "timeout"
	case cause != nil:
		return "canceled"
	case in.nearMemoryLimit():
		return "memory"
	case errors.As(err, &exit):
		return "exit"
	}
	return "trap"
}
