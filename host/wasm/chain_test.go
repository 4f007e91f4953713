package wasm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
)

func TestPropertiesPassBetweenPlugins(t *testing.T) {
	e := newEnv(t)
	auth := e.load(pluginCfg("auth", goPlugin(t, "auth")))
	kitchen := e.load(pluginCfg("kitchen", goPlugin(t, "kitchen")))
	c := chain(auth, kitchen)

	r := request("GET", "/", "", "")
	r.Header.Set("X-User", "alice")
	in := info()
	w := httptest.NewRecorder()
	c.Handle(w, r, in, echo)
	require.Equal(t, 200, w.Code)
	assert.Equal(t, "alice", w.Header().Get("X-Up-Principal"), "kitchen read the property auth set")
	assert.Equal(t, map[string]string{"auth.principal": "alice", "kitchen.seen": "yes"}, in.Properties)
	assert.Equal(t, "200", w.Header().Get("X-Auth-Saw-Status"), "auth's response phase ran")
}

func TestShortCircuitRunsEarlierResponsePhases(t *testing.T) {
	e := newEnv(t)
	kitchen := e.load(pluginCfg("kitchen", goPlugin(t, "kitchen")))
	auth := e.load(pluginCfg("auth", goPlugin(t, "auth")))
	var called atomic.Bool
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Store(true) })

	w := httptest.NewRecorder()
	chain(kitchen, auth).Handle(w, request("GET", "/", "", ""), info(), next)
	assert.Equal(t, 401, w.Code)
	assert.JSONEq(t, `{"message":"Unauthorized"}`, w.Body.String())
	assert.False(t, called.Load(), "upstream skipped")
	assert.Equal(t, "401", w.Header().Get("X-Resp-Status"), "kitchen ran before auth, so its response phase sees the 401")
	assert.Empty(t, w.Header().Get("X-Auth-Saw-Status"), "the responding plugin's own response phase does not run")
}

func TestConfigRejected(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, source, config, expMsg string
	}{
		{name: "go sdk", source: goPlugin(t, "kitchen"), config: `{"reject":"key must be set"}`, expMsg: "key must be set"},
		{name: "go sdk decode", source: goPlugin(t, "kitchen"), config: `{"nope":1}`, expMsg: `decode config: json: unknown field "nope"`},
		{name: "wat", source: watPlugin(t, "reject_config"), expMsg: `missing field "key"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.host.Load(t.Context(), pluginCfg("p", tc.source, func(p *config.Plugin) { p.ConfigJSON = []byte(tc.config) }))
			var ce *wasm.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, &wasm.ConfigError{Plugin: "p", Message: tc.expMsg}, ce)
			assert.Contains(t, err.Error(), `plugin "p" rejected its config: `+tc.expMsg)
		})
	}
}

func TestLoadRejectsBadModules(t *testing.T) {
	e := newEnv(t)
	garbage := filepath.Join(t.TempDir(), "garbage.wasm")
	require.NoError(t, os.WriteFile(garbage, []byte("\x00asm\x01\x00\x00\x00garbage"), 0o644))
	tests := []struct {
		name, source, expErr string
	}{
		{"missing file", filepath.Join(t.TempDir(), "nope.wasm"), "check the plugin's source path"},
		{"garbage bytes", garbage, `plugin "bad": compile`},
		{"no marker", watPlugin(t, "no_marker"), `exports no ABI version marker; export a no-op function "gateway_abi_v1"`},
		{"unknown version", watPlugin(t, "v2_marker"), `exports "gateway_abi_v2" but this gateway supports only ABI v1`},
		{"no memory", watPlugin(t, "no_memory"), `does not export its memory as "memory"`},
		{"no phase", watPlugin(t, "no_phase"), "exports no phase; export at least one of on_request_headers"},
		{"wrong export signature", watPlugin(t, "bad_signature"), `export "on_request_headers" has signature (i32) -> (i32), want () -> (i32)`},
		{"unknown host function", watPlugin(t, "unknown_import"), "imports unknown host function gateway_v1.teleport"},
		{"unknown module", watPlugin(t, "other_module"), `imports env.abort from unknown module "env"; plugins may import only "gateway_v1" and "wasi_snapshot_preview1"`},
		{"wrong import signature", watPlugin(t, "bad_import_sig"), "imports gateway_v1.log with signature (i32, i32) -> (), want (i32, i32, i32) -> ()"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.host.Load(t.Context(), pluginCfg("bad", tc.source))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.expErr)
			assert.True(t, strings.HasPrefix(err.Error(), `plugin "bad": `), err.Error())
		})
	}
}

func TestInitializeLoopFailsLoadWithinDeadline(t *testing.T) {
	h, err := wasm.New(t.Context(), wasm.Options{CacheDir: "off", InstantiateTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	defer h.Close(t.Context())
	start := time.Now()
	_, err = h.Load(t.Context(), pluginCfg("looper", watPlugin(t, "init_loop")))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `plugin "looper": instantiate (_initialize): did not finish within 100ms`)
	assert.Less(t, time.Since(start), 10*time.Second, "load is bounded by the instantiate deadline")
}

// TestHostileAtRuntime: each fault gives the on_error status, discards the
// instance, counts the fault; the plugin keeps serving afterwards.
func TestHostileAtRuntime(t *testing.T) {
	e := newEnv(t)
	kitchenSrc := goPlugin(t, "kitchen")
	tests := []struct {
		name, source, op string
		timeout          time.Duration
		memory           uint64
		phase, reason    string
		expLog           string
	}{
		{name: "wat infinite loop", source: watPlugin(t, "loop"), timeout: 50 * time.Millisecond, phase: "on_request_headers", reason: "timeout"},
		{name: "wat trap", source: watPlugin(t, "trap"), phase: "on_request_headers", reason: "trap", expLog: "unreachable"},
		{name: "wat memory bomb", source: watPlugin(t, "grow"), memory: 1 << 20, phase: "on_request_headers", reason: "memory"},
		{name: "wat out-of-bounds read", source: watPlugin(t, "oob_read"), phase: "on_request_headers", reason: "abi", expLog: "abi misuse in gateway_v1.log: pointer 65530 length 100 is outside guest memory"},
		{name: "wat out-of-bounds write", source: watPlugin(t, "oob_write"), phase: "on_request_headers", reason: "abi", expLog: "abi misuse in gateway_v1.header_get: buffer 65535 length 5 is outside guest memory"},
		{name: "wat unknown action", source: watPlugin(t, "bad_action"), phase: "on_request_headers", reason: "trap", expLog: "returned unknown action 7"},
		{name: "go panic", source: kitchenSrc, op: "panic", phase: "on_request_headers", reason: "trap", expLog: "kitchen: boom"},
		{name: "go infinite loop", source: kitchenSrc, op: "loop", timeout: 200 * time.Millisecond, phase: "on_request_headers", reason: "timeout"},
		// The Go runtime reaches 16 MiB in 1-3 s under -race on 2 busy cores: a
		// timeout long enough that the fault is the memory limit, not the clock.
		{name: "go out of memory", source: kitchenSrc, op: "oom", memory: 16 << 20, timeout: 15 * time.Second, phase: "on_request_headers", reason: "memory"},
		{name: "go bad header value", source: kitchenSrc, op: "badheader", phase: "on_request_headers", reason: "abi", expLog: "abi misuse in gateway_v1.header_set"},
	}
	for _, tc := range tests {
		for _, policy := range []config.OnError{config.OnErrorDeny, config.OnErrorAllow} {
			t.Run(tc.name+"/"+string(policy), func(t *testing.T) {
				name := strings.ReplaceAll(tc.name, " ", "-") + "-" + string(policy)
				p := e.load(pluginCfg(name, tc.source, func(p *config.Plugin) {
					p.OnError = policy
					if tc.timeout > 0 {
						p.Timeout = tc.timeout
					}
					if tc.memory > 0 {
						p.MemoryBytes = tc.memory
					}
				}))
				c := chain(p)
				var called atomic.Int32
				next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					called.Add(1)
					w.WriteHeader(204)
				})
				require.Equal(t, 1, p.Live())
				goroutines := runtime.NumGoroutine()

				w := httptest.NewRecorder()
				r := request("GET", "/", tc.op, "")
				r.Header.Set("X-A", "value")
				c.Handle(w, r, info(), next)
				if policy == config.OnErrorDeny {
					assert.Equal(t, 500, w.Code)
					assert.JSONEq(t, `{"message":"Internal server error","requestId":"req-1"}`, w.Body.String())
					assert.Zero(t, called.Load())
				} else {
					assert.Equal(t, 204, w.Code, "allow skips the faulty plugin")
					assert.Equal(t, int32(1), called.Load())
				}
				assert.Equal(t, 0, p.Live(), "the faulted instance is discarded, not pooled")
				assert.Equal(t, 0, p.Idle())
				assert.Equal(t, float64(1), faults(t, e, name, tc.phase, tc.reason))
				logs := e.logs.String()
				assert.Contains(t, logs, "plugin="+name)
				if tc.expLog != "" {
					assert.Contains(t, logs, tc.expLog)
				}

				if tc.op != "" { // a Go plugin: a normal request on the same plugin works
					w = httptest.NewRecorder()
					c.Handle(w, request("GET", "/", "", ""), info(), next)
					assert.Equal(t, 204, w.Code)
					assert.Equal(t, 1, p.Live(), "the pool refilled lazily")
					assert.Equal(t, 1, p.Idle())
				}
				// +1: Eventually runs the condition in its own goroutine.
				require.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutines+1 },
					5*time.Second, 5*time.Millisecond, "goroutines return to normal")
			})
		}
	}
}

// TestPoolClosesIdleInstances: the instances a burst added to a plugin's
// pool are closed once idle for idle_timeout, down to one; an instance in
// use is never touched, and the pool serves afterwards.
func TestPoolClosesIdleInstances(t *testing.T) {
	e := newEnv(t)
	p := e.load(pluginCfg("bursty", watPlugin(t, "noop"), func(p *config.Plugin) {
		p.PoolSize, p.IdleTimeout, p.Timeout = 4, 100*time.Millisecond, 10*time.Millisecond
	}))
	var held []pipeline.Instance
	for range 4 {
		in, err := p.Acquire(t.Context())
		require.NoError(t, err)
		held = append(held, in)
	}
	assert.Equal(t, 4, p.Live())
	for _, in := range held[1:] {
		in.Release(t.Context())
	}
	require.Eventually(t, func() bool { return p.Live() == 1 }, 10*time.Second, 10*time.Millisecond,
		"idle instances are closed, down to one")
	assert.Equal(t, 0, p.Idle(), "the one left is the one in use")
	held[0].Release(t.Context())
	time.Sleep(300 * time.Millisecond) // three idle timeouts more
	assert.Equal(t, 1, p.Live(), "the last instance stays")

	w := httptest.NewRecorder()
	chain(p).Handle(w, request("GET", "/", "", ""), info(), echo)
	assert.Equal(t, 200, w.Code)
}

func TestPoolWaitTimesOut(t *testing.T) {
	e := newEnv(t)
	p := e.load(pluginCfg("noop", watPlugin(t, "noop"), func(p *config.Plugin) { p.PoolSize = 1 }))
	held, err := p.Acquire(t.Context())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = p.Acquire(ctx)
	require.ErrorIs(t, err, pipeline.ErrBusy)
	assert.Contains(t, err.Error(), `plugin "noop": all 1 instances busy`)

	r := request("GET", "/", "", "").WithContext(ctx)
	w := httptest.NewRecorder()
	chain(p).Handle(w, r, info(), echo)
	assert.Equal(t, 503, w.Code)

	held.Release(t.Context())
	w = httptest.NewRecorder()
	chain(p).Handle(w, request("GET", "/", "", ""), info(), echo)
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, 1, p.Live())
}

func TestConcurrentChain(t *testing.T) {
	e := newEnv(t)
	auth := e.load(pluginCfg("auth", goPlugin(t, "auth")))
	kitchen := e.load(pluginCfg("kitchen", goPlugin(t, "kitchen")))
	noop := e.load(pluginCfg("noop", goPlugin(t, "noop")))
	c := chain(auth, kitchen, noop)

	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perWorker {
				r := request("POST", "/", "body", "hi")
				user := "u" + string(rune('a'+i))
				r.Header.Set("X-User", user)
				w := httptest.NewRecorder()
				in := info()
				c.Handle(w, r, in, echo)
				if !assert.Equal(t, 200, w.Code, "worker %d request %d", i, j) {
					return
				}
				assert.Equal(t, "HI", w.Body.String())
				assert.Equal(t, user, w.Header().Get("X-Up-Principal"))
				assert.Equal(t, user, in.Properties["auth.principal"])
			}
		}()
	}
	wg.Wait()
	for _, p := range []*wasm.Plugin{auth, kitchen, noop} {
		assert.LessOrEqual(t, p.Live(), 4, p.Name())
		assert.Equal(t, p.Live(), p.Idle(), "every instance back in the pool: %s", p.Name())
	}
	assert.Equal(t, float64(workers*perWorker), metricValue(t, e, "kitchen_requests_total", "kitchen"))
}

func TestPluginLogs(t *testing.T) {
	e := newEnv(t)
	p := e.load(pluginCfg("kitchen", goPlugin(t, "kitchen")))
	w := httptest.NewRecorder()
	chain(p).Handle(w, request("GET", "/", "log", ""), info(), echo)
	require.Equal(t, 200, w.Code)
	logs := e.logs.String()
	assert.Contains(t, logs, `msg="hello from kitchen" plugin=kitchen request_id=req-1`)
	assert.Contains(t, logs, `msg="final status 200" plugin=kitchen request_id=req-1`, "on_log sees the final status")
}

func TestCloseIsSafe(t *testing.T) {
	h, err := wasm.New(t.Context(), wasm.Options{CacheDir: "off"})
	require.NoError(t, err)
	_, err = h.Load(t.Context(), pluginCfg("bad", watPlugin(t, "no_marker")))
	require.Error(t, err)
	p, err := h.Load(t.Context(), pluginCfg("noop", watPlugin(t, "noop")))
	require.NoError(t, err)
	in, err := p.Acquire(t.Context())
	require.NoError(t, err)
	require.NoError(t, h.Close(t.Context()))
	require.NoError(t, h.Close(t.Context()), "second Close is a no-op")
	in.Release(t.Context()) // releasing after close does not panic or block
	_, err = p.Acquire(t.Context())
	require.Error(t, err)
	_, err = h.Load(t.Context(), pluginCfg("noop", watPlugin(t, "noop")))
	assert.ErrorContains(t, err, "wasm host is closed")
}
