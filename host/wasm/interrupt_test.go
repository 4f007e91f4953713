package wasm_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
)

// TestInterruptWithoutCloseOnContextDone: guests that never return run
// instrumented, on a runtime without WithCloseOnContextDone; the interrupt
// flag stops each call at its deadline, with the same status, fault reason
// and error as wazero's checks gave. A module the rewriter rejects falls back
// to those checks.
func TestInterruptWithoutCloseOnContextDone(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, plugin, source, op string
		expMode                  string
	}{
		{name: "wat infinite loop", plugin: "wat-loop", source: watPlugin(t, "loop"), expMode: "flag"},
		{name: "wat call tree without a loop", plugin: "wat-recurse", source: watPlugin(t, "recurse"), expMode: "flag"},
		{name: "go infinite loop", plugin: "go-loop", source: goPlugin(t, "kitchen"), op: "loop", expMode: "flag"},
		{name: "reserved export name: wazero's checks", plugin: "reserved", source: watPlugin(t, "reserved_loop"), expMode: "close-on-context-done"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.plugin
			p := e.load(pluginCfg(name, tc.source, func(p *config.Plugin) { p.Timeout = 100 * time.Millisecond }))
			mode, instrumented := wasm.Interruption(p)
			assert.Equal(t, tc.expMode, mode)
			assert.Equal(t, tc.expMode == "flag", instrumented)

			start := time.Now()
			w := httptest.NewRecorder()
			chain(p).Handle(w, request("GET", "/", tc.op, ""), info(), echo)
			assert.Equal(t, 500, w.Code)
			assert.Less(t, time.Since(start), 10*time.Second, "the call stops at its deadline")
			assert.Equal(t, 1.0, faults(t, e, name, "on_request_headers", "timeout"))
			assert.Equal(t, 0, p.Live(), "the interrupted instance is discarded")
			assert.Contains(t, e.logs.String(), `plugin=`+name+` phase=on_request_headers reason=timeout error="module closed with context deadline exceeded"`)

			if tc.op != "" {
				w = httptest.NewRecorder()
				chain(p).Handle(w, request("GET", "/", "", ""), info(), echo)
				assert.Equal(t, 200, w.Code, "a new instance serves the next request")
			}
		})
	}
	logs := e.logs.String()
	assert.Equal(t, 1, strings.Count(logs, "module not instrumented for cheap interruption"), "only the fallback is logged")
	assert.Contains(t, logs, `plugin=reserved`)
	assert.Contains(t, logs, `the module already exports \"wasmgate.interrupt\", a name reserved for the gateway`)
}

func TestInterruptStartSection(t *testing.T) {
	h, err := wasm.New(t.Context(), wasm.Options{CacheDir: "off", InstantiateTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	defer h.Close(t.Context())
	start := time.Now()
	_, err = h.Load(t.Context(), pluginCfg("looper", watPlugin(t, "start_loop")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `plugin "looper": instantiate (_initialize): did not finish within 100ms: module closed with context deadline exceeded`)
	assert.Less(t, time.Since(start), 10*time.Second, "load is bounded by the instantiate deadline")
}

func TestInterruptFunction(t *testing.T) {
	e := newFnEnv(t, nil)
	src := goFunction(t)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("strict", src, func(c *config.Function) { c.Timeout = 100 * time.Millisecond }))
	require.NoError(t, err)
	mode, instrumented := wasm.FunctionInterruption(f)
	assert.Equal(t, "flag", mode)
	assert.True(t, instrumented)
	_, err = f.Invoke(t.Context(), event("/loop", ""), nil)
	require.ErrorIs(t, err, wasm.ErrTimeout)
	assert.Equal(t, 1.0, e.errorsVec(t, "strict", "timeout"))

	soft, err := e.host.LoadFunction(t.Context(), fnCfg("soft", src, func(c *config.Function) { c.SoftTimeout = true }))
	require.NoError(t, err)
	mode, instrumented = wasm.FunctionInterruption(soft)
	assert.Equal(t, "none", mode, "strict_timeout = false: nothing stops a call")
	assert.True(t, instrumented, "but the module still exits into Go periodically")
	resp, err := soft.Invoke(t.Context(), event("/echo", ""), nil)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

// TestInterruptAfterWarmCalls: calls that follow each other leave the
// instance's timer armed instead of resetting it per call (timed.armed); a
// call that then runs away is still stopped, not before its timeout and
// for timeouts shorter and longer than watchEvery (a tick left by earlier
// calls re-arms itself until the deadline).
func TestInterruptAfterWarmCalls(t *testing.T) {
	e := newFnEnv(t, nil)
	src := goFunction(t)
	for _, timeout := range []time.Duration{60 * time.Millisecond, 400 * time.Millisecond} {
		t.Run(timeout.String(), func(t *testing.T) {
			name := "warm" + timeout.String()
			f, err := e.host.LoadFunction(t.Context(), fnCfg(name, src, func(c *config.Function) {
				c.Timeout, c.Concurrency = timeout, 1
			}))
			require.NoError(t, err)
			// Short calls spread over more than one tick, so some start with
			// the timer left armed by the calls before them.
			for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
				resp, err := f.Invoke(t.Context(), event("/echo", ""), nil)
				require.NoError(t, err)
				assert.Equal(t, 200, resp.StatusCode)
			}
			start := time.Now()
			_, err = f.Invoke(t.Context(), event("/loop", ""), nil)
			require.ErrorIs(t, err, wasm.ErrTimeout)
			assert.GreaterOrEqual(t, time.Since(start), timeout, "not stopped before its timeout")
			assert.Equal(t, 1.0, e.errorsVec(t, name, "timeout"))
			resp, err := f.Invoke(t.Context(), event("/echo", ""), nil)
			require.NoError(t, err, "a new instance serves the next call")
			assert.Equal(t, 200, resp.StatusCode)
		})
	}
}

// deadlineCaller holds every http_call until its context ends.
type deadlineCaller struct{}

func (deadlineCaller) Call(ctx context.Context, _ string, _ *http.Request) (*http.Response, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestInterruptAfterReturn: when the deadline passes while the guest is in a
// host function and the guest then returns without passing another check,
// the call succeeds and the instance goes back to the pool with its flag
// cleared (the next call passes checks without trapping).
func TestInterruptAfterReturn(t *testing.T) {
	logs := &syncBuffer{}
	h := newHost(t, wasm.Options{
		HTTPCaller: deadlineCaller{}, Upstreams: []string{"backend"},
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	p, err := h.Load(t.Context(), pluginCfg("late", watPlugin(t, "call_then_loop"), func(p *config.Plugin) {
		p.Timeout, p.PoolSize = 50*time.Millisecond, 1
	}))
	require.NoError(t, err)
	for i := range 3 {
		w := httptest.NewRecorder()
		chain(p).Handle(w, request("GET", "/", "", ""), info(), echo)
		assert.Equal(t, 200, w.Code, "request %d: %s", i, logs.String())
		assert.Equal(t, 1, p.Live(), "request %d: the instance is pooled, not discarded", i)
	}
	assert.NotContains(t, logs.String(), "plugin fault")
}

// ctxCaller records a value of the context each http_call gets and fails
// the call.
type ctxCaller struct{ got chan any }

type callerKey struct{}

func (c ctxCaller) Call(ctx context.Context, _ string, _ *http.Request) (*http.Response, error) {
	_, bounded := ctx.Deadline()
	c.got <- [2]any{ctx.Value(callerKey{}), bounded}
	return nil, errors.New("refused by the test")
}

// TestHostFunctionsGetCallerContext: a guest timed by its instance runs
// with a context of its own (instance.ctx), but its host functions still get
// the caller's context, bounded by the call's deadline: an http_call sees
// the request's values and is cancelled with it.
func TestHostFunctionsGetCallerContext(t *testing.T) {
	got := make(chan any, 1)
	h := newHost(t, wasm.Options{HTTPCaller: ctxCaller{got}, Upstreams: []string{"backend"}})
	p, err := h.Load(t.Context(), pluginCfg("ctx", watPlugin(t, "call_then_loop"), func(p *config.Plugin) { p.Timeout = time.Second }))
	require.NoError(t, err)
	in, err := p.Acquire(t.Context())
	require.NoError(t, err)
	defer in.Release(t.Context())
	_, err = in.Run(context.WithValue(t.Context(), callerKey{}, "request 1"), pipeline.PhaseRequestHeaders, nil)
	require.NoError(t, err)
	assert.Equal(t, [2]any{"request 1", true}, <-got)
}

// TestInterruptLetsGCRun: Go cannot preempt a goroutine inside wazero's
// compiled code, so a guest that never left it would block every
// stop-the-world; an instrumented guest exits into Go periodically, so
// garbage collection finishes while it spins.
func TestInterruptLetsGCRun(t *testing.T) {
	h := newHost(t, wasm.Options{})
	p, err := h.Load(t.Context(), pluginCfg("spin", watPlugin(t, "loop"), func(p *config.Plugin) { p.Timeout = time.Second }))
	require.NoError(t, err)
	in, err := p.Acquire(t.Context())
	require.NoError(t, err)
	defer in.Release(t.Context())

	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // keep the spinning guest on its own thread
		_, _ = in.Run(t.Context(), pipeline.PhaseRequestHeaders, nil)
	}()
	for range 3 {
		runtime.GC()
	}
	select {
	case <-done:
		t.Fatal("the guest stopped before garbage collection finished: it was not preempted")
	default:
	}
	<-done
}

// TestInterruptOnCallerCancel: a call whose timeout is long stops when the
// caller's context ends (the client went away), whether that happens before
// or after its first check; a short call is left to its own deadline, which
// comes soon anyway; a long call that is not canceled still stops at its
// deadline, reached through several checks.
func TestInterruptOnCallerCancel(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name        string
		timeout     time.Duration
		cancelAfter time.Duration // 0: never
		reason      string
	}{
		{"long timeout, canceled at once", time.Minute, 20 * time.Millisecond, "canceled"},
		{"long timeout, canceled after a check", time.Minute, 400 * time.Millisecond, "canceled"},
		{"short timeout, canceled", 200 * time.Millisecond, 20 * time.Millisecond, "timeout"},
		{"long timeout, not canceled", 600 * time.Millisecond, 0, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.load(pluginCfg("spin", watPlugin(t, "loop"), func(p *config.Plugin) { p.Timeout = tc.timeout }))
			in, err := p.Acquire(t.Context())
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.cancelAfter > 0 {
				stop := time.AfterFunc(tc.cancelAfter, cancel)
				defer stop.Stop()
			}
			_, err = in.Run(ctx, pipeline.PhaseRequestHeaders, nil)
			in.Release(t.Context())
			require.Error(t, err)
			assert.Contains(t, err.Error(), ": "+tc.reason+": ")
			assert.Equal(t, 0, p.Live(), "the stopped instance is discarded")
		})
	}
}

// TestCloseDuringCall: closing the host frees every instance's memory, also
// that of an instance in a call. The call goes on using its memory until it
// is stopped at its deadline, and only then is the memory unmapped: freeing
// it at once would crash the process.
func TestCloseDuringCall(t *testing.T) {
	e := newEnv(t)
	p := e.load(pluginCfg("memory-loop", watPlugin(t, "memory_loop"), func(p *config.Plugin) { p.Timeout = 300 * time.Millisecond }))
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		chain(p).Handle(w, request("GET", "/", "", ""), info(), echo)
		done <- w.Code
	}()
	require.Eventually(t, func() bool { return strings.Contains(e.logs.String(), "msg=busy") }, 10*time.Second, time.Millisecond)
	require.NoError(t, e.host.Close(context.WithoutCancel(t.Context())))
	select {
	case code := <-done:
		assert.Equal(t, 500, code)
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end at its deadline")
	}
}
