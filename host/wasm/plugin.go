package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/schema"
)

// ConfigError is a plugin rejecting its config in on_configure. The gateway
// reports it as a config diagnostic.
type ConfigError struct {
	Plugin  string
	Message string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("plugin %q rejected its config: %s; fix the plugin's config block", e.Plugin, e.Message)
}

// phaseExports maps each pipeline phase to its export, in phase order.
var phaseExports = [...]struct {
	phase  pipeline.Phase
	abiBit uint32
	name   string
}{
	{pipeline.PhaseRequestHeaders, abi.PhaseRequestHeaders, abi.ExportOnRequestHeaders},
	{pipeline.PhaseRequestBody, abi.PhaseRequestBody, abi.ExportOnRequestBody},
	{pipeline.PhaseResponseHeaders, abi.PhaseResponseHeaders, abi.ExportOnResponseHeaders},
	{pipeline.PhaseResponseBody, abi.PhaseResponseBody, abi.ExportOnResponseBody},
	{pipeline.PhaseLog, abi.PhaseLog, abi.ExportOnLog},
}

// phaseIndex returns the index of phase in phaseExports.
func phaseIndex(p pipeline.Phase) int {
	for i := range phaseExports {
		if phaseExports[i].phase == p {
			return i
		}
	}
	return -1
}

// Plugin is a compiled, validated plugin with its instance pool. It
// implements pipeline.Plugin.
type Plugin struct {
	h        *Host
	cfg      *config.Plugin
	name     string
	pages    uint32
	timeout  time.Duration
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	phases   pipeline.Phase
	// interruption is how calls are stopped at their deadline; compile
	// may change interruptFlag to interruptClose.
	interruption interruption
	// instrumented: compiled from interrupt.Instrument's output.
	instrumented bool

	sem  chan struct{}  // one token per live instance
	idle chan *instance // pooled instances

	metricsMu sync.Mutex
	metricIDs map[string]int32
	metrics   []*pluginMetric

	schemaOnce sync.Once
	schemas    *schema.Cache // compiled JSON Schemas (schema.go)

	closeOnce sync.Once
	closed    chan struct{}
}

// Interface guard.
var _ pipeline.Plugin = (*Plugin)(nil)

// Name implements pipeline.Plugin.
func (p *Plugin) Name() string { return p.name }

// OnError implements pipeline.Plugin.
func (p *Plugin) OnError() config.OnError { return p.cfg.OnError }

// Phases implements pipeline.Plugin.
func (p *Plugin) Phases() pipeline.Phase { return p.phases }

// Idle returns the number of pooled idle instances.
func (p *Plugin) Idle() int { return len(p.idle) }

// Live returns the number of live instances, idle or in use.
func (p *Plugin) Live() int { return len(p.sem) }

// Load compiles and validates the plugin cfg, instantiates one instance to fail
// fast (running _initialize and on_configure) and returns it with its pool.
// A config rejected by on_configure is a *ConfigError.
func (h *Host) Load(ctx context.Context, cfg *config.Plugin) (*Plugin, error) {
	p, err := h.load(ctx, cfg)
	if err != nil {
		if p != nil {
			p.close(ctx)
		}
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("plugin %q: %w", cfg.Name, err)
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		p.close(ctx)
		return nil, fmt.Errorf("plugin %q: wasm host is closed", cfg.Name)
	}
	h.plugins = append(h.plugins, p)
	h.mu.Unlock()
	return p, nil
}

func (h *Host) load(ctx context.Context, cfg *config.Plugin) (*Plugin, error) {
	mem := cfg.MemoryBytes
	if mem == 0 {
		mem = DefaultMemoryBytes
	}
	pages := (mem + pageSize - 1) / pageSize
	if pages > 65536 {
		return nil, fmt.Errorf("memory limit %d bytes is over the 4 GiB wasm32 maximum; lower memory", mem)
	}
	size := cfg.PoolSize
	if size <= 0 {
		size = 4 * runtime.GOMAXPROCS(0)
	}
	p := &Plugin{
		h: h, cfg: cfg, name: cfg.Name, pages: uint32(pages), timeout: cfg.Timeout,
		sem: make(chan struct{}, size), idle: make(chan *instance, size),
		metricIDs: make(map[string]int32), closed: make(chan struct{}),
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	bin, err := os.ReadFile(cfg.Source)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w; check the plugin's source path", cfg.Source, err)
	}
	if err := h.compile(ctx, p, bin); err != nil {
		return p, err
	}
	exported, err := validate(p.compiled)
	if err != nil {
		return p, fmt.Errorf("%s: %w", cfg.Source, err)
	}
	p.modCfg = h.moduleConfig(p)

	// The eager instance: fail fast, and learn the phases it asks for.
	p.sem <- struct{}{}
	in, err := p.instantiate(ctx)
	if err != nil {
		<-p.sem
		return p, err
	}
	mask := in.phaseMask
	for _, pe := range phaseExports {
		if exported&pe.phase != 0 && mask&pe.abiBit != 0 {
			p.phases |= pe.phase
		}
	}
	p.idle <- in
	if cfg.IdleTimeout > 0 {
		go reapEvery(p.closed, reapInterval(cfg.IdleTimeout), p.closeIdle)
	}
	return p, nil
}

// closeIdle closes the pooled instances, but the last one, that served no
// request for the idle timeout.
func (p *Plugin) closeIdle(now time.Time) {
	n := closeIdle(p.idle, p.sem, p.closed, 1, p.cfg.IdleTimeout, p.timeout, now,
		func(in *instance) *instance { return in })
	if n > 0 {
		p.h.logger.Debug("plugin instances closed after idling", "plugin", p.name, "closed", n, "live", len(p.sem))
	}
}

// sig is a wasm function signature.
type sig struct{ params, results []api.ValueType }

func (s sig) String() string {
	return fmt.Sprintf("(%s) -> (%s)", typeNames(s.params), typeNames(s.results))
}

func typeNames(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ", ")
}

func sameSig(d api.FunctionDefinition, s sig) bool {
	return equalTypes(d.ParamTypes(), s.params) && equalTypes(d.ResultTypes(), s.results)
}

func equalTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var (
	i32          = api.ValueTypeI32
	sigPhase     = sig{results: []api.ValueType{i32}}
	sigLog       = sig{}
	sigMarker    = sig{}
	sigConfigure = sig{params: []api.ValueType{i32}, results: []api.ValueType{i32}}
)

// validate checks a compiled module against ABI v1 and returns its phases.
func validate(m wazero.CompiledModule) (pipeline.Phase, error) {
	exports := m.ExportedFunctions()
	var marker string
	for name := range exports {
		if strings.HasPrefix(name, abi.ExportABIMarkerPrefix) {
			marker = name
		}
	}
	switch {
	case marker == "":
		return 0, fmt.Errorf("exports no ABI version marker; export a no-op function %q (the Go SDK does) or rebuild it against ABI v1", abi.ExportABIV1)
	case marker != abi.ExportABIV1:
		return 0, fmt.Errorf("exports %q but this gateway supports only ABI v1; rebuild it against ABI v1 (export %q)", marker, abi.ExportABIV1)
	}
	if _, ok := m.ExportedMemories()[abi.ExportMemory]; !ok {
		return 0, fmt.Errorf("does not export its memory as %q; export it so host functions can read arguments", abi.ExportMemory)
	}
	check := func(name string, want sig) (bool, error) {
		d, ok := exports[name]
		if !ok {
			return false, nil
		}
		if !sameSig(d, want) {
			got := sig{d.ParamTypes(), d.ResultTypes()}
			return false, fmt.Errorf("export %q has signature %s, want %s; fix the export to match ABI v1", name, got, want)
		}
		return true, nil
	}
	if _, err := check(abi.ExportABIV1, sigMarker); err != nil {
		return 0, err
	}
	if _, err := check(abi.ExportOnConfigure, sigConfigure); err != nil {
		return 0, err
	}
	if _, err := check(abi.ExportInitialize, sig{}); err != nil {
		return 0, err
	}
	var phases pipeline.Phase
	for _, pe := range phaseExports {
		want := sigPhase
		if pe.phase == pipeline.PhaseLog {
			want = sigLog
		}
		ok, err := check(pe.name, want)
		if err != nil {
			return 0, err
		}
		if ok {
			phases |= pe.phase
		}
	}
	if phases == 0 {
		return 0, fmt.Errorf("exports no phase; export at least one of %s, %s, %s, %s, %s",
			abi.ExportOnRequestHeaders, abi.ExportOnRequestBody, abi.ExportOnResponseHeaders, abi.ExportOnResponseBody, abi.ExportOnLog)
	}
	for _, d := range m.ImportedFunctions() {
		mod, name, _ := d.Import()
		switch mod {
		case abi.WASIModule:
		case abi.HostModule:
			hf, ok := hostFuncByName[name]
			if !ok {
				return 0, fmt.Errorf("imports unknown host function %s.%s; remove it or upgrade the gateway", mod, name)
			}
			if !sameSig(d, hf.sig) {
				got := sig{d.ParamTypes(), d.ResultTypes()}
				return 0, fmt.Errorf("imports %s.%s with signature %s, want %s; fix the import to match ABI v1", mod, name, got, hf.sig)
			}
		default:
			return 0, fmt.Errorf("imports %s.%s from unknown module %q; plugins may import only %q and %q", mod, name, mod, abi.HostModule, abi.WASIModule)
		}
	}
	for _, d := range m.ImportedMemories() {
		mod, name, _ := d.Import()
		return 0, fmt.Errorf("imports memory %s.%s; a plugin must define and export its own memory", mod, name)
	}
	return phases, nil
}

// Acquire implements pipeline.Plugin: it returns an idle instance, creates
// one while the pool has room, or waits for one until ctx ends.
func (p *Plugin) Acquire(ctx context.Context) (pipeline.Instance, error) {
	select {
	case <-p.closed:
		return nil, fmt.Errorf("plugin %q is closed (config reloaded); retry the request", p.name)
	default:
	}
	select {
	case in := <-p.idle:
		return in, nil
	default:
	}
	select {
	case in := <-p.idle:
		return in, nil
	case p.sem <- struct{}{}:
		in, err := p.instantiate(ctx)
		if err != nil {
			<-p.sem
			p.h.countFault(p.name, "instantiate", "instantiate")
			p.h.logger.ErrorContext(ctx, "plugin instantiation failed", "plugin", p.name, "error", err)
			return nil, err
		}
		return in, nil
	case <-p.closed:
		return nil, fmt.Errorf("plugin %q is closed (config reloaded); retry the request", p.name)
	case <-ctx.Done():
		return nil, fmt.Errorf("plugin %q: all %d instances busy: %w", p.name, cap(p.sem), pipeline.ErrBusy)
	}
}

// release returns a healthy instance to the pool or frees the slot of a
// discarded one.
func (p *Plugin) release(ctx context.Context, in *instance) {
	if in.mod == nil {
		<-p.sem
		return
	}
	select {
	case <-p.closed:
		in.discard(context.WithoutCancel(ctx))
		<-p.sem
	default:
		p.idle <- in
	}
}

// close closes idle instances and the compiled module. Instances in use are
// closed with the runtime.
func (p *Plugin) close(ctx context.Context) {
	p.closeOnce.Do(func() {
		close(p.closed)
		for {
			select {
			case in := <-p.idle:
				if in.mod != nil {
					_ = in.mod.Close(ctx)
				}
				<-p.sem
			default:
				if p.compiled != nil {
					_ = p.compiled.Close(ctx)
				}
				return
			}
		}
	})
}
