package wasm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/wasm/internal/interrupt"
)

// interruption is how a call into a module is stopped at its deadline.
type interruption int

const (
	// interruptFlag: the module was rewritten by package interrupt and runs
	// on a runtime without wazero's checks; a call is stopped by setting the
	// instance's interrupt flag when its context ends (instance.call).
	interruptFlag interruption = iota
	// interruptClose: wazero's WithCloseOnContextDone, for modules the
	// rewriter rejects. It costs Go guests 4-7x their speed.
	interruptClose
	// interruptNone: nothing stops a call (functions with strict_timeout =
	// false); it runs to completion. The module is still rewritten when it
	// can be, for the periodic exits into Go that let the process collect
	// garbage while the call runs, but its flag is never set.
	interruptNone
)

func (i interruption) String() string {
	switch i {
	case interruptFlag:
		return "flag"
	case interruptClose:
		return "close-on-context-done"
	default:
		return "none"
	}
}

// runtimeKey selects one of a Host's runtimes: wazero limits memory per
// runtime, and WithCloseOnContextDone applies to a whole runtime.
type runtimeKey struct {
	pages       uint32
	closeOnDone bool
}

// compile compiles bin for p (its source, memory limit and requested
// p.interruption) and sets p.rt, p.compiled and p.instrumented. It compiles
// the module as rewritten by interrupt.Instrument, on a runtime without
// wazero's checks. If the rewriter rejects the module, it logs why and
// compiles the module unchanged, with interruptClose instead of
// interruptFlag.
func (h *Host) compile(ctx context.Context, p *Plugin, bin []byte) error {
	instrumented, reason := interrupt.Instrument(bin)
	if reason == nil && runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		// wazero interprets there, reading globals with plain Go loads that
		// would race with the flag's store.
		reason = fmt.Errorf("wazero has no compiler for GOARCH=%s", runtime.GOARCH)
	}
	if reason == nil {
		rt, err := h.runtime(ctx, runtimeKey{pages: p.pages})
		if err != nil {
			return err
		}
		compiled, err := rt.CompileModule(profileCtx(ctx), instrumented)
		if err == nil {
			p.rt, p.compiled, p.instrumented = rt, compiled, true
			return nil
		}
		reason = fmt.Errorf("the instrumented module does not compile: %w", err)
	}
	if p.interruption == interruptFlag {
		p.interruption = interruptClose
	}
	var err error
	if p.rt, err = h.runtime(ctx, runtimeKey{pages: p.pages, closeOnDone: p.interruption == interruptClose}); err != nil {
		return err
	}
	if p.compiled, err = p.rt.CompileModule(profileCtx(ctx), bin); err != nil {
		return fmt.Errorf("compile %s: %w; rebuild it as a wasm32 module (e.g. GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared)", p.cfg.Source, err)
	}
	h.logger.WarnContext(ctx, "module not instrumented for cheap interruption; it runs with wazero's slower checks or, with strict_timeout = false, none",
		"plugin", p.name, "source", p.cfg.Source, "reason", reason)
	return nil
}

// initialize finishes instantiating an instrumented module, which was
// instantiated without start functions: for interruptFlag it resolves the
// interrupt flag, then it calls the former start section's function and
// _initialize, as InstantiateModule would have, each stoppable through the
// flag. It closes mod on error.
func (in *instance) initialize(ctx context.Context, mod api.Module) error {
	if in.p.interruption == interruptFlag {
		flag, ok := mod.ExportedGlobal(interrupt.FlagExport).(api.MutableGlobal)
		if !ok {
			_ = mod.Close(ctx)
			return fmt.Errorf("the instrumented module exports no mutable global %q", interrupt.FlagExport)
		}
		in.flag = flag
		in.interrupt = func() {
			flag.Set(1)
			in.pending.Done()
		}
	}
	for _, name := range [...]string{interrupt.StartExport, abi.ExportInitialize} {
		f := mod.ExportedFunction(name)
		if f == nil {
			continue
		}
		if err := in.call(ctx, f, nil); err != nil {
			_ = mod.Close(ctx)
			var exit *sys.ExitError
			if errors.As(err, &exit) {
				if exit.ExitCode() == 0 { // proc_exit(0) succeeds, as in InstantiateModule
					return nil
				}
				return err
			}
			return fmt.Errorf("function %s failed: %w", name, err)
		}
	}
	return nil
}

// call calls f with stack. For an interruptFlag instance it sets the
// interrupt flag when ctx ends, so that the guest traps at its next check;
// the error is then the one wazero returns for a module closed by
// WithCloseOnContextDone (a *sys.ExitError for the context's error), so both
// kinds of instance fail alike. Either way the flag is 0 again on return: a
// call that returned normally leaves the instance reusable.
func (in *instance) call(ctx context.Context, f api.Function, stack []uint64) error {
	if in.flag == nil {
		return in.invoke(ctx, f, stack)
	}
	if ctx.Err() != nil {
		return interruptedError(ctx)
	}
	in.pending.Add(1)
	stop := context.AfterFunc(ctx, in.interrupt)
	err := in.invoke(ctx, f, stack)
	if stop() {
		in.pending.Done()
		return err
	}
	in.pending.Wait() // in.interrupt has set the flag and returned
	in.flag.Set(0)
	if err != nil && in.misuse == nil {
		err = interruptedError(ctx)
	}
	return err
}

// invoke calls f with stack, its memory marked busy meanwhile (memory.go).
func (in *instance) invoke(ctx context.Context, f api.Function, stack []uint64) error {
	if m := in.linear; m != nil {
		if !m.enter() {
			return errMemoryFreed
		}
		defer m.exit()
	}
	return f.CallWithStack(ctx, stack)
}

// watchEvery is how often a timed call checks its caller's context: a
// call whose timeout is longer is also stopped when the context ends (the
// client went away), within watchEvery. Shorter calls end soon enough by
// themselves (a tick left armed by an earlier call may still check them).
const watchEvery = 250 * time.Millisecond

// timed is the state the timer of an interruptFlag instance shares with
// the call in progress (instance.callFor). Only callFor writes it, under mu;
// tick reads it under mu, and host functions, which run on the calling
// goroutine, may read deadline without it.
type timed struct {
	mu       sync.Mutex
	calling  bool
	deadline time.Time // of the call in progress; zero between calls
	ctx      context.Context
	fired    bool // the flag was set: deadline passed (expired) or ctx ended
	expired  bool
	// armed says the timer is set to run tick at fireAt. A call leaves it
	// set: the next call keeps it when it fires early enough, so a busy
	// instance pays for no timer change per call, and an idle one's timer
	// runs tick once more and stops.
	armed  bool
	fireAt time.Time
}

// callFor calls f with stack and stops it after timeout (0: no limit) or,
// for timeouts above watchEvery, when ctx ends. It returns the call's error
// and why it was stopped: context.DeadlineExceeded, ctx's error, or nil
// when it was not.
//
// An interruptFlag instance is timed with its own reusable timer instead of
// a context deadline: no context, timer or AfterFunc to allocate per call,
// and while calls follow each other no timer to reset or stop either (see
// timed.armed). Its guest runs with in.ctx, its host functions with ctx
// (in.callCtx).
// Host functions that block on I/O get the deadline from
// in.timed.deadline (bounded). Other instances need a context deadline (wazero's
// WithCloseOnContextDone watches the context, and a soft call is only
// measured), so they get one.
func (in *instance) callFor(ctx context.Context, f api.Function, stack []uint64, timeout time.Duration) (err, cause error) {
	if in.flag == nil || timeout <= 0 {
		in.lastCall = time.Now()
		callCtx, cancel := ctx, context.CancelFunc(nil)
		if timeout > 0 {
			callCtx, cancel = context.WithTimeout(ctx, timeout)
		}
		err = in.call(context.WithValue(callCtx, instanceKey{}, in), f, stack)
		cause = callCtx.Err()
		if cancel != nil {
			cancel()
		}
		return err, cause
	}
	now := time.Now()
	in.lastCall = now // also for a call refused below: Invoke times calls from it
	if err := ctx.Err(); err != nil {
		return interruptedError(ctx), err
	}
	t := &in.timed
	t.mu.Lock() // held while arming: tick reads in.timer
	t.calling, t.deadline, t.ctx, t.fired, t.expired = true, now.Add(timeout), ctx, false, false
	first := min(timeout, watchEvery)
	if at := now.Add(first); !t.armed || t.fireAt.After(at) {
		// No tick is due soon enough for this call: (re)arm. A tick
		// already due earlier checks this call and re-arms itself.
		if in.timer == nil {
			in.timer = time.AfterFunc(first, in.tick)
		} else {
			in.timer.Reset(first)
		}
		t.armed, t.fireAt = true, at
	}
	t.mu.Unlock()
	in.callCtx = ctx
	err = in.invoke(in.ctx, f, stack)
	in.callCtx = nil
	t.mu.Lock()
	t.calling, t.deadline, t.ctx = false, time.Time{}, nil
	fired, expired := t.fired, t.expired
	t.mu.Unlock()
	if !fired {
		return err, nil
	}
	in.flag.Set(0)
	if expired {
		cause = context.DeadlineExceeded
	} else {
		cause = ctx.Err()
	}
	if err != nil && in.misuse == nil {
		if expired {
			err = sys.NewExitError(sys.ExitCodeDeadlineExceeded)
		} else {
			err = sys.NewExitError(sys.ExitCodeContextCanceled)
		}
	}
	return err, cause
}

// tick runs on the timer's goroutine. During a call it sets the interrupt
// flag when the deadline has passed or the caller's context has ended, and
// otherwise checks again within watchEvery. A tick that runs after its call
// returned (it fired just as the call ended) changes nothing; one that runs
// during the next call judges that call, which is just as right.
func (in *instance) tick() {
	t := &in.timed
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed = false
	if !t.calling || t.fired {
		return
	}
	now := time.Now()
	left := t.deadline.Sub(now)
	switch {
	case left <= 0:
		t.expired = true
	case t.ctx.Err() != nil:
	default:
		d := min(left, watchEvery)
		in.timer.Reset(d)
		t.armed, t.fireAt = true, now.Add(d)
		return
	}
	t.fired = true
	in.flag.Set(1)
}

// interruptedError is the error wazero returns for a call into a module that
// WithCloseOnContextDone closed when ctx ended.
func interruptedError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return sys.NewExitError(sys.ExitCodeDeadlineExceeded)
	}
	return sys.NewExitError(sys.ExitCodeContextCanceled)
}
