package wasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/kv"
)

// Defaults applied to zero-valued plugin and host settings.
const (
	DefaultMemoryBytes        = 32 << 20
	DefaultTimeout            = 50 * time.Millisecond
	DefaultInstantiateTimeout = 10 * time.Second
	DefaultHTTPCallMaxBody    = 1 << 20
	pageSize                  = 65536
)

// HTTPCaller performs http_call requests for plugins. The gateway supplies it;
// it resolves upstream (a name declared in HCL) to a target. req carries method,
// path, query, headers and body; its URL has no scheme or host.
type HTTPCaller interface {
	Call(ctx context.Context, upstream string, req *http.Request) (*http.Response, error)
}

// Options configures a Host.
type Options struct {
	// CacheDir holds compiled modules across restarts; "" means
	// os.UserCacheDir()/wasmgate, "off" disables the cache.
	CacheDir string
	// Registerer receives gateway_plugin_faults_total and plugin metrics;
	// nil disables both.
	Registerer prometheus.Registerer
	// Logger receives plugin logs and faults; nil means slog.Default().
	Logger *slog.Logger
	// KV backs the kv_* host functions; nil makes them return ResultUnavailable.
	KV kv.Store
	// HTTPCaller backs http_call; nil makes it return ResultUnavailable.
	HTTPCaller HTTPCaller
	// Connections backs connection_send and connection_close (managed
	// WebSocket APIs); nil makes them return ResultUnavailable.
	Connections Connections
	// Upstreams is the http_call allowlist: the upstream names declared in HCL.
	Upstreams []string
	// HTTPCallMaxBody caps an http_call response body (DefaultHTTPCallMaxBody).
	HTTPCallMaxBody int64
	// InstantiateTimeout bounds instantiation (_initialize and on_configure)
	// of one instance (DefaultInstantiateTimeout).
	InstantiateTimeout time.Duration
}

// Host owns the wazero runtimes of one config generation: one runtime per
// distinct plugin memory limit (wazero limits memory per runtime) and
// interruption (runtimeKey), all sharing one compilation cache.
type Host struct {
	opts      Options
	logger    *slog.Logger
	cache     wazero.CompilationCache
	upstreams map[string]bool
	faults    *prometheus.CounterVec
	metrics   *metricRegistry

	mu       sync.Mutex
	runtimes map[runtimeKey]wazero.Runtime
	plugins  []*Plugin
	closed   bool
	// functions and fnVecs: function backends (function.go).
	functions []*Function
	fnVecs    *functionVecs
}

// New returns a Host. Plugins are added with Load.
func New(ctx context.Context, opts Options) (*Host, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPCallMaxBody <= 0 {
		opts.HTTPCallMaxBody = DefaultHTTPCallMaxBody
	}
	if opts.InstantiateTimeout <= 0 {
		opts.InstantiateTimeout = DefaultInstantiateTimeout
	}
	h := &Host{
		opts:      opts,
		logger:    opts.Logger,
		upstreams: make(map[string]bool, len(opts.Upstreams)),
		runtimes:  make(map[runtimeKey]wazero.Runtime),
	}
	for _, u := range opts.Upstreams {
		h.upstreams[u] = true
	}
	switch dir := opts.CacheDir; dir {
	case "off":
	default:
		if dir == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				return nil, fmt.Errorf("wasm host: find the user cache dir: %w; set a cache dir explicitly", err)
			}
			dir = filepath.Join(base, "wasmgate")
		}
		c, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			return nil, fmt.Errorf("wasm host: open compilation cache %s: %w; fix its permissions or choose another dir", dir, err)
		}
		h.cache = c
	}
	if opts.Registerer != nil {
		fv := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_plugin_faults_total",
			Help: "Plugin instance faults (traps, timeouts, memory limit, ABI misuse) by plugin, phase and reason.",
		}, []string{"plugin", "phase", "reason"})
		c, err := register(opts.Registerer, fv)
		if err != nil {
			_ = h.Close(ctx)
			return nil, fmt.Errorf("wasm host: register gateway_plugin_faults_total: %w", err)
		}
		h.faults = c.(*prometheus.CounterVec)
		h.metrics = &metricRegistry{reg: opts.Registerer, byName: make(map[string]*sharedMetric)}
	}
	return h, nil
}

// register registers c, returning the already registered collector when an
// earlier config generation registered an identical one.
func register(reg prometheus.Registerer, c prometheus.Collector) (prometheus.Collector, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return are.ExistingCollector, nil
	}
	return c, err
}

// runtime returns the runtime for a memory limit and interruption, creating
// it on first use.
func (h *Host) runtime(ctx context.Context, key runtimeKey) (wazero.Runtime, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("wasm host is closed")
	}
	if r, ok := h.runtimes[key]; ok {
		return r, nil
	}
	cfg := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(key.closeOnDone).
		WithMemoryLimitPages(key.pages)
	if h.cache != nil {
		cfg = cfg.WithCompilationCache(h.cache)
	}
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("instantiate %s: %w", abi.WASIModule, err)
	}
	if err := instantiateHostModule(ctx, r); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("instantiate host module %s: %w", abi.HostModule, err)
	}
	h.runtimes[key] = r
	return r, nil
}

// moduleConfig returns p's module config. An instrumented module is
// instantiated without start functions: instance.initialize calls them.
func (h *Host) moduleConfig(p *Plugin) wazero.ModuleConfig {
	start := []string{abi.ExportInitialize}
	if p.instrumented {
		start = nil
	}
	return wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(start...).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		WithStderr(&logWriter{logger: h.logger, plugin: p.name})
}

// Close closes every plugin and runtime. It is safe after a partial New or
// Load and more than once.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	dumpGuestProfile()
	plugins, runtimes, functions := h.plugins, h.runtimes, h.functions
	h.plugins, h.runtimes, h.functions = nil, nil, nil
	h.mu.Unlock()

	var errs []error
	for _, p := range plugins {
		p.close(ctx)
	}
	for _, f := range functions {
		f.close(ctx)
	}
	for _, r := range runtimes {
		if err := r.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if h.cache != nil {
		if err := h.cache.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("wasm host: close: %w", err)
	}
	return nil
}

// features returns the abi.Feature bits this host supports.
func (h *Host) features() uint64 {
	var f uint64
	if h.opts.KV != nil {
		f |= abi.FeatureKV
	}
	if h.opts.HTTPCaller != nil {
		f |= abi.FeatureHTTPCall
	}
	if h.metrics != nil {
		f |= abi.FeatureMetrics
	}
	if h.opts.Connections != nil {
		f |= abi.FeatureConnections
	}
	return f
}

// logWriter routes a guest's stderr to the log.
type logWriter struct {
	logger *slog.Logger
	plugin string
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.logger.Warn("plugin stderr", "plugin", w.plugin, "output", string(p))
	return len(p), nil
}
