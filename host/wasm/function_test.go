package wasm_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// blockingCaller answers http_call once release is closed, after telling
// entered that a call arrived.
type blockingCaller struct {
	entered chan struct{}
	release chan struct{}
}

func (c blockingCaller) Call(ctx context.Context, _ string, _ *http.Request) (*http.Response, error) {
	c.entered <- struct{}{}
	select {
	case <-c.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("released"))}, nil
}

type fnEnv struct {
	host *wasm.Host
	reg  *prometheus.Registry
	logs *syncBuffer
	kv   *kv.Memory
}

func newFnEnv(t *testing.T, caller wasm.HTTPCaller) *fnEnv {
	t.Helper()
	e := &fnEnv{reg: prometheus.NewRegistry(), logs: &syncBuffer{}, kv: kv.NewMemory()}
	t.Cleanup(func() { _ = e.kv.Close() })
	h, err := wasm.New(t.Context(), wasm.Options{
		CacheDir: cacheDir(t), Registerer: e.reg, KV: e.kv, HTTPCaller: caller, Upstreams: []string{"backend"},
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close(context.WithoutCancel(t.Context()))) })
	e.host = h
	return e
}

func goFunction(t testing.TB) string {
	return wasmtest.Build(t, filepath.Join("testdata", "functions", "probe"))
}

func fnCfg(name, source string, opts ...func(*config.Function)) *config.Function {
	f := &config.Function{
		Name: name, Source: source, ConfigJSON: []byte(`{"k":1}`), Env: map[string]string{"GREETING": "hi"},
		MemoryBytes: 64 << 20, Timeout: 2 * time.Second, QueueTimeout: 50 * time.Millisecond, MinWarm: 1,
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

func event(path, body string) []byte {
	b, _ := json.Marshal(abi.FunctionEvent{Version: "2.0", RawPath: path, Body: body, Headers: map[string]string{"x-a": "b"}})
	return b
}

// packedEvent is event in the packed encoding (abi.ExportEventPacked).
func packedEvent(path, body string) []byte {
	var ev abi.FunctionEvent
	if err := json.Unmarshal(event(path, body), &ev); err != nil {
		panic(err)
	}
	return abi.AppendPackedEvent(nil, &ev)
}

// TestFunctionResponsesRecycled: a released response's headers map is reused
// by the next invocation without the previous response's headers, for JSON
// and packed responses alike.
func TestFunctionResponsesRecycled(t *testing.T) {
	e := newFnEnv(t, nil)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("probe", goFunction(t)))
	require.NoError(t, err)
	for _, headers := range []map[string]string{{"a": "1", "b": "2"}, {"c": "3"}, {"a": "4"}} {
		ev := abi.FunctionEvent{Version: "2.0", RawPath: "/headers", Headers: headers}
		js, err := json.Marshal(&ev)
		require.NoError(t, err)
		for _, doc := range [][]byte{js, abi.AppendPackedEvent(nil, &ev)} {
			resp, err := f.Invoke(t.Context(), doc, nil)
			require.NoError(t, err)
			assert.Equal(t, headers, resp.Headers)
			wasm.ReleaseResponse(resp)
		}
	}
}

// TestFunctionPackedEvents: a Go SDK function asks for packed events, reads
// them as it reads JSON ones, and answers packed.
func TestFunctionPackedEvents(t *testing.T) {
	e := newFnEnv(t, nil)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("probe", goFunction(t)))
	require.NoError(t, err)
	require.True(t, f.Packed(), "the Go SDK exports %s", abi.ExportEventPacked)
	for _, ev := range [][]byte{event("/echo", "héllo"), packedEvent("/echo", "héllo")} {
		resp, err := f.Invoke(t.Context(), ev, nil)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		var got abi.FunctionEvent
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
		assert.Equal(t, "/echo", got.RawPath)
		assert.Equal(t, "héllo", got.Body)
		assert.Equal(t, map[string]string{"x-a": "b"}, got.Headers)
	}

	wat, err := e.host.LoadFunction(t.Context(), fnCfg("wat", watPlugin(t, "fn_hello")))
	require.NoError(t, err)
	assert.False(t, wat.Packed(), "a module without %s gets JSON events", abi.ExportEventPacked)
}

func TestFunctionInvoke(t *testing.T) {
	e := newFnEnv(t, nil)
	src := goFunction(t)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("probe", src, func(c *config.Function) { c.Timeout = 200 * time.Millisecond }))
	require.NoError(t, err)

	for _, tc := range []struct {
		name, path string
		expStatus  int
		expBody    string
		expErr     error
		expLog     string
	}{
		{name: "echo", path: "/echo", expStatus: 200, expBody: `"headers":{"x-a":"b"}`},
		{name: "env and config", path: "/env", expStatus: 200, expBody: `hi {"k":1}`},
		{name: "error result", path: "/error", expErr: wasm.ErrFailed, expLog: "probe: error requested"},
		{name: "panic", path: "/panic", expErr: wasm.ErrFailed, expLog: "reason=trap"},
		{name: "timeout", path: "/loop", expErr: wasm.ErrTimeout, expLog: "reason=timeout"},
		{name: "bad status", path: "/badstatus", expErr: wasm.ErrBadResponse},
		{name: "bad base64", path: "/badbase64", expErr: wasm.ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.Invoke(t.Context(), event(tc.path, ""), nil)
			if tc.expErr != nil {
				require.ErrorIs(t, err, tc.expErr)
				assert.Contains(t, e.logs.String(), tc.expLog)
				// The next invocation works (a faulty instance is replaced).
				resp, err = f.Invoke(t.Context(), event("/env", ""), nil)
				require.NoError(t, err)
				assert.Equal(t, 200, resp.StatusCode)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expStatus, resp.StatusCode)
			assert.Contains(t, resp.Body, tc.expBody)
		})
	}
	assert.Equal(t, 1.0, (e.errorsVec(t, "probe", "timeout")))
	assert.GreaterOrEqual(t, (e.counter(t, "gateway_function_cold_starts_total", "probe")), 2.0)
}

// errorsVec returns one gateway_function_errors_total series.
func (e *fnEnv) errorsVec(t *testing.T, fn, reason string) float64 {
	t.Helper()
	return e.metric(t, "gateway_function_errors_total", map[string]string{"function": fn, "reason": reason})
}

func (e *fnEnv) counter(t *testing.T, name, fn string) float64 {
	t.Helper()
	return e.metric(t, name, map[string]string{"function": fn})
}

// metric returns the value of the series name{labels} in the registry.
func (e *fnEnv) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func TestFunctionSoftTimeout(t *testing.T) {
	e := newFnEnv(t, nil)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("soft", goFunction(t), func(c *config.Function) {
		c.SoftTimeout, c.Timeout = true, 100*time.Millisecond
	}))
	require.NoError(t, err)
	resp, err := f.Invoke(t.Context(), event("/echo", ""), nil)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	// The call cannot be interrupted: it finishes, and is still a timeout.
	_, err = f.Invoke(t.Context(), event("/spin", ""), nil)
	require.ErrorIs(t, err, wasm.ErrTimeout)
	assert.Contains(t, e.logs.String(), "past its 100ms timeout")
	assert.Equal(t, 1.0, e.errorsVec(t, "soft", "timeout"))
	resp, err = f.Invoke(t.Context(), event("/echo", ""), nil)
	require.NoError(t, err, "a new instance replaces the timed-out one")
	assert.Equal(t, 200, resp.StatusCode)
}

func TestFunctionRawABI(t *testing.T) {
	for _, tc := range []struct {
		name, wat string
		expErr    string
	}{
		{"response not json", "fn_badjson", "response is not a JSON object"},
		{"no response", "fn_noresp", "returned 0 without calling gateway_v1.event_respond"},
		{"packed response truncated", "fn_badpacked", "packed response: value at byte 5 runs past the end of the document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFnEnv(t, nil)
			f, err := e.host.LoadFunction(t.Context(), fnCfg("raw", watPlugin(t, tc.wat)))
			require.NoError(t, err)
			_, err = f.Invoke(t.Context(), event("/", ""), nil)
			require.ErrorIs(t, err, wasm.ErrBadResponse)
			assert.Contains(t, err.Error(), tc.expErr)
		})
	}
}

func TestFunctionLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, wat, expErr string
	}{
		{"plugin, not a function", "noop", `function "bad": ` + "%s" + `: exports no "handle_event", so it is not a function`},
		{"wrong signature", "fn_badsig", `export "handle_event" has signature () -> (i32), want (i32) -> (i32)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFnEnv(t, nil)
			src := watPlugin(t, tc.wat)
			_, err := e.host.LoadFunction(t.Context(), fnCfg("bad", src))
			require.Error(t, err)
			exp := tc.expErr
			if strings.Contains(exp, "%s") {
				exp = strings.Replace(exp, "%s", src, 1)
			}
			assert.Contains(t, err.Error(), exp)
		})
	}
}

func TestFunctionWarmPoolAndKV(t *testing.T) {
	e := newFnEnv(t, nil)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("kvfn", goFunction(t), func(c *config.Function) {
		c.MinWarm, c.Concurrency = 2, 2
	}))
	require.NoError(t, err)
	assert.Equal(t, 2, f.Idle(), "min_warm instances are created at load")
	_, err = f.Invoke(t.Context(), event("/kv", "value"), nil)
	require.NoError(t, err)
	v, ok, err := e.kv.Get(t.Context(), "kvfn/k")
	require.NoError(t, err)
	require.True(t, ok, "the function's KV key is namespaced by its name")
	assert.Equal(t, "value", string(v))
	assert.Equal(t, 0.0, (e.counter(t, "gateway_function_cold_starts_total", "kvfn")))
}

func TestFunctionConcurrencyThrottles(t *testing.T) {
	caller := blockingCaller{entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newFnEnv(t, caller)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("slow", goFunction(t), func(c *config.Function) {
		c.Concurrency = 1
	}))
	require.NoError(t, err)

	var wg sync.WaitGroup
	var first *abi.FunctionResponse
	var firstErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		first, firstErr = f.Invoke(t.Context(), event("/call", ""), nil)
	}()
	<-caller.entered // the only instance is busy now
	assert.Equal(t, 1.0, e.counter(t, "gateway_function_concurrent_executions", "slow"))
	assert.Equal(t, 1.0, e.counter(t, "gateway_function_invocations_total", "slow"))

	_, err = f.Invoke(t.Context(), event("/echo", ""), nil)
	require.ErrorIs(t, err, wasm.ErrThrottled)
	assert.Contains(t, err.Error(), "all 1 instances stayed busy for 50ms")

	close(caller.release)
	wg.Wait()
	require.NoError(t, firstErr)
	assert.Equal(t, "released", first.Body)
	assert.Equal(t, 1.0, (e.counter(t, "gateway_function_throttles_total", "slow")))
	_, err = f.Invoke(t.Context(), event("/echo", ""), nil)
	require.NoError(t, err, "the instance is free again")
	assert.Equal(t, 0.0, e.counter(t, "gateway_function_concurrent_executions", "slow"))
	assert.Equal(t, 2.0, e.counter(t, "gateway_function_invocations_total", "slow"), "a throttled request is not an invocation")
}

// TestFunctionQueuedCallRuns: a call over the concurrency waits, and runs
// on the instance the running call releases (no cold start, no 429).
func TestFunctionQueuedCallRuns(t *testing.T) {
	caller := blockingCaller{entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newFnEnv(t, caller)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("queued", goFunction(t), func(c *config.Function) {
		c.Concurrency, c.QueueTimeout = 1, time.Minute
	}))
	require.NoError(t, err)

	first := make(chan error, 1)
	go func() {
		_, err := f.Invoke(t.Context(), event("/call", ""), nil)
		first <- err
	}()
	<-caller.entered // the only instance is busy now
	second := make(chan *abi.FunctionResponse, 1)
	go func() {
		resp, err := f.Invoke(t.Context(), event("/echo", "queued"), nil)
		assert.NoError(t, err)
		second <- resp
	}()
	// Let the second call reach the queue; it must not finish before the
	// first releases the instance.
	time.Sleep(50 * time.Millisecond)
	select {
	case <-second:
		t.Fatal("the second call ran while the only instance was busy")
	default:
	}
	close(caller.release)
	require.NoError(t, <-first)
	resp := <-second
	require.NotNil(t, resp)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 1, f.Live())
	assert.Equal(t, 1, f.Idle())
	assert.Equal(t, 0.0, e.counter(t, "gateway_function_throttles_total", "queued"))
	assert.Equal(t, 0.0, e.counter(t, "gateway_function_cold_starts_total", "queued"))
}

// TestFunctionIdleInstancesClosed: the instances a burst created are closed
// once idle for idle_timeout, down to min_warm and no further, and the
// function keeps serving from the warm ones.
func TestFunctionIdleInstancesClosed(t *testing.T) {
	caller := blockingCaller{entered: make(chan struct{}, 4), release: make(chan struct{})}
	e := newFnEnv(t, caller)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("bursty", goFunction(t), func(c *config.Function) {
		c.Concurrency, c.MinWarm, c.IdleTimeout = 4, 2, 100*time.Millisecond
	}))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Invoke(t.Context(), event("/call", ""), nil)
			assert.NoError(t, err)
		}()
	}
	for range 4 {
		<-caller.entered
	}
	assert.Equal(t, 4, f.Live(), "the burst runs on four instances")
	assert.Equal(t, 4.0, e.counter(t, "gateway_function_instances", "bursty"))
	close(caller.release)
	wg.Wait()

	require.Eventually(t, func() bool { return f.Live() == 2 }, 10*time.Second, 10*time.Millisecond,
		"idle instances above min_warm are closed")
	time.Sleep(300 * time.Millisecond) // three idle timeouts more
	assert.Equal(t, 2, f.Live(), "min_warm instances stay")
	assert.Equal(t, 2.0, e.counter(t, "gateway_function_instances", "bursty"))
	assert.Equal(t, 2, f.Idle())
	resp, err := f.Invoke(t.Context(), event("/echo", ""), nil)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 2.0, e.counter(t, "gateway_function_cold_starts_total", "bursty"), "the burst's two extra instances were the only cold starts")
	assert.Contains(t, e.logs.String(), "function instances closed after idling")
}

// TestFunctionScalesToZero: with min_warm = 0 the instance made at load is
// closed once idle too, and the next call starts a new one.
func TestFunctionScalesToZero(t *testing.T) {
	e := newFnEnv(t, nil)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("zero", goFunction(t), func(c *config.Function) {
		c.MinWarm, c.IdleTimeout = 0, 50*time.Millisecond
	}))
	require.NoError(t, err)
	assert.Equal(t, 1, f.Live(), "one instance at load, to fail fast on a bad module")
	require.Eventually(t, func() bool { return f.Live() == 0 }, 10*time.Second, 10*time.Millisecond)
	resp, err := f.Invoke(t.Context(), event("/echo", ""), nil)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 1.0, e.counter(t, "gateway_function_cold_starts_total", "zero"))
}

// TestFunctionRefusedCallDuration: a call whose context ended before it
// started is timed from when it was refused, not from the instance's
// previous call.
func TestFunctionRefusedCallDuration(t *testing.T) {
	e := newFnEnv(t, nil)
	f, err := e.host.LoadFunction(t.Context(), fnCfg("refused", goFunction(t)))
	require.NoError(t, err)
	_, err = f.Invoke(t.Context(), event("/echo", ""), nil)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the instance's previous call is this long ago
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = f.Invoke(ctx, event("/echo", ""), nil)
	require.Error(t, err)
	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "gateway_function_duration_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			require.Equal(t, uint64(2), h.GetSampleCount())
			assert.Less(t, h.GetSampleSum(), 0.25, "the refused call was timed from the previous call")
			return
		}
	}
	t.Fatal("gateway_function_duration_seconds is not exported")
}

// TestFunctionCallMetrics: invocations, their duration and concurrency are
// counted per instance and added up at scrape; a function loaded again
// under the same name (a config reload) goes on from the old counts.
func TestFunctionCallMetrics(t *testing.T) {
	e := newFnEnv(t, nil)
	src := goFunction(t)
	calls := 0
	for gen, n := range []int{5, 3} {
		f, err := e.host.LoadFunction(t.Context(), fnCfg("counted", src, func(c *config.Function) { c.MinWarm = 2 }))
		require.NoError(t, err, "generation %d", gen)
		for range n {
			_, err := f.Invoke(t.Context(), event("/echo", ""), nil)
			require.NoError(t, err)
		}
		_, err = f.Invoke(t.Context(), event("/panic", ""), nil)
		require.ErrorIs(t, err, wasm.ErrFailed)
		calls += n + 1
	}
	assert.Equal(t, float64(calls), e.counter(t, "gateway_function_invocations_total", "counted"))
	assert.Equal(t, 0.0, e.counter(t, "gateway_function_concurrent_executions", "counted"))

	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	var found bool
	for _, mf := range mfs {
		if mf.GetName() != "gateway_function_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() != "counted" {
				continue
			}
			found = true
			h := m.GetHistogram()
			assert.Equal(t, uint64(calls), h.GetSampleCount(), "failed calls are timed too")
			assert.Greater(t, h.GetSampleSum(), 0.0)
			b := h.GetBucket()
			require.Len(t, b, 17)
			assert.Equal(t, 0.00005, b[0].GetUpperBound())
			assert.Equal(t, 10.0, b[16].GetUpperBound())
			for i := 1; i < len(b); i++ {
				assert.GreaterOrEqual(t, b[i].GetCumulativeCount(), b[i-1].GetCumulativeCount(), "buckets are cumulative")
			}
			assert.Equal(t, uint64(calls), b[16].GetCumulativeCount(), "no call took 10s")
		}
	}
	assert.True(t, found, "gateway_function_duration_seconds{function=\"counted\"} is exported")
}
