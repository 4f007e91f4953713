package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/metrics"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/proxy"
	"github.com/wasmgate/gateway/host/router"
	"github.com/wasmgate/gateway/host/upstream"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/host/wsapi"
)

// shared is what outlives generations: it is owned by the Gateway (or by
// Validate) and handed to each generation it builds.
type shared struct {
	metrics *metrics.Metrics
	logger  *slog.Logger
	kv      kv.Store
	// wasmCacheDir is the compilation cache ("" = default, "off").
	wasmCacheDir string
	onState      func(up, target, from, to string)
	// hub holds the managed WebSocket connections, which outlive
	// generations; nil when validating.
	hub *wsapi.Hub
	// local is the in-process traffic state (API keys, quotas) kept across
	// reloads; built by the first generation that needs it (traffic.go).
	local *localTraffic
}

// generation is everything built from one config.Gateway: the router, the
// upstream pools, the per-route runtime state. Requests hold a reference to the
// generation they started on; a reload swaps in a new one and closes the old one
// once its last request is done.
type generation struct {
	cfg        *config.Gateway
	router     *router.Router
	pools      map[string]*upstream.Pool
	forwarder  *proxy.Forwarder
	compressor *proxy.Compressor
	logger     *slog.Logger
	wasm       *wasm.Host // nil when the config declares no plugin
	traffic    *traffic   // nil when the config declares no rate limit or cache
	hub        *wsapi.Hub // shared.hub
	// wsAPIs are the websocket_api blocks' runtime form, by name (websocket.go).
	wsAPIs map[string]*wsapi.API
	// reqIDHeader is the canonical form of the request id header.
	reqIDHeader string

	// refs counts the owner (1 while current) plus requests in flight.
	refs    atomic.Int64
	drained chan struct{}
}

// route is the runtime form of one config.Route.
type route struct {
	cfg      *config.Route
	pool     *upstream.Pool  // nil for mocks
	chain    *pipeline.Chain // nil when no plugin runs on the route
	metrics  *metrics.RouteMetrics
	upstream interface{ Observe(float64) }
	mock     *mockResponse
	fn       *wasm.Function // a function backend (function.go)
	// ws is set on a websocket_api's handshake route (websocket.go).
	ws bool
	// compress says whether responses of this route may be compressed.
	compress bool
	// rewrite is true when UpstreamPath is a template to expand.
	rewrite bool
	// limits are the rate limits applied before the final step (traffic.go).
	limits []*limit
	// cache is the route's response cache; nil when not cached (cache.go).
	cache *routeCache
	// plans are the usage plans covering the route, by name; nil = none (keys.go).
	plans map[string]*plan
	// split is the weighted (canary) split between upstreams; nil = none (canary.go).
	split *split
}

type mockResponse struct {
	status int
	header http.Header
	body   []byte
}

// newGeneration builds a generation. On error everything built so far is closed.
func newGeneration(ctx context.Context, cfg *config.Gateway, sh *shared) (_ *generation, err error) {
	m, logger := sh.metrics, sh.logger
	g := &generation{
		cfg:     cfg,
		pools:   make(map[string]*upstream.Pool, len(cfg.Upstreams)),
		logger:  logger,
		drained: make(chan struct{}),

		reqIDHeader: http.CanonicalHeaderKey(cfg.Server.RequestIDHeader),
	}
	if g.reqIDHeader == "" {
		g.reqIDHeader = "X-Request-Id"
	}
	g.refs.Store(1)
	g.hub = sh.hub
	defer func() {
		if err != nil {
			g.close(ctx) // g, not the named result: a failed build returns nil
		}
	}()

	for _, u := range cfg.Upstreams {
		p, err := upstream.New(ctx, u, upstream.Options{Logger: logger, OnStateChange: sh.onState})
		if err != nil {
			return nil, &blockError{rng: u.Range, summary: "Invalid upstream", err: fmt.Errorf("upstream %q: %w", u.Name, err)}
		}
		g.pools[u.Name] = p
	}
	g.forwarder = proxy.New(proxy.Options{Logger: logger, Registerer: m.Registry})
	if cfg.Compression.Enabled {
		c, err := proxy.NewCompressor(cfg.Compression)
		if err != nil {
			return nil, fmt.Errorf("compression: %w", err)
		}
		g.compressor = c
	}

	// Traffic first: with kv { backend = "redis" } the plugins' KV store uses its Redis client.
	if g.traffic, err = newTraffic(cfg, sh); err != nil {
		return nil, err
	}
	plugins, err := g.loadPlugins(ctx, cfg, sh)
	if err != nil {
		return nil, err
	}
	functions, err := g.loadFunctions(ctx, cfg)
	if err != nil {
		return nil, err
	}

	g.wsAPIs = g.buildWebSocketAPIs(cfg, functions)

	chainOpts := pipeline.Options{
		MaxBodyBytes: cfg.Server.MaxBodyBytes,
		WriteError:   proxy.WriteError,
	}

	entries := make([]router.Route, 0, len(cfg.Routes))
	for _, rc := range cfg.Routes {
		rt := &route{cfg: rc, metrics: m.Route(rc.Key), compress: g.compressor != nil}
		if chain := routePipeline(cfg, rc, plugins); len(chain) > 0 {
			rt.chain = pipeline.New(chain, chainOpts)
		}
		if rc.Compression != nil {
			rt.compress = g.compressor != nil && *rc.Compression
		}
		rt.limits, rt.cache, rt.plans = g.traffic.routeLimits(cfg, rc), g.traffic.newRouteCache(rc), g.traffic.routePlans(rc)
		rt.split = newSplit(rc, g.pools, m.Registry)
		switch {
		case rc.Upstream != nil:
			rt.pool = g.pools[rc.Upstream.Name]
			rt.upstream = m.Upstream(rc.Upstream.Name)
			rt.rewrite = rc.UpstreamPath != ""
		case rc.Mock != nil:
			rt.mock = newMock(rc.Mock, rc.ResponseHeaders)
		case rc.Function != nil:
			rt.fn = functions[rc.Function.Name]
		case rc.WebSocketAPI != nil:
			rt.ws = true
		default:
			return nil, &blockError{rng: rc.Range, summary: "Invalid route", err: fmt.Errorf("route %q has neither an upstream, a function nor a mock", rc.Key)}
		}
		entries = append(entries, router.Route{Method: rc.Method, Host: rc.Host, Path: rc.Path, Value: rt})
	}
	r, err := router.New(entries)
	if err != nil {
		return nil, fmt.Errorf("build router: %w", err)
	}
	g.router = r
	return g, nil
}

// loadPlugins compiles and configures every declared plugin once; routes
// share the loaded plugins.
func (g *generation) loadPlugins(ctx context.Context, cfg *config.Gateway, sh *shared) (map[string]*wasm.Plugin, error) {
	if len(cfg.Plugins) == 0 && len(cfg.Functions) == 0 {
		return nil, nil
	}
	var conns wasm.Connections
	if sh.hub != nil && len(cfg.WebSocketAPIs) > 0 {
		conns = hubConnections{hub: sh.hub}
	}
	names := make([]string, 0, len(cfg.Upstreams))
	for _, u := range cfg.Upstreams {
		names = append(names, u.Name)
	}
	h, err := wasm.New(ctx, wasm.Options{
		CacheDir:    sh.wasmCacheDir,
		Registerer:  sh.metrics.Registry,
		Logger:      sh.logger,
		KV:          g.traffic.pluginKV(sh.kv),
		HTTPCaller:  httpCaller{g: g},
		Connections: conns,
		Upstreams:   names,
	})
	if err != nil {
		return nil, fmt.Errorf("start the wasm runtime: %w", err)
	}
	g.wasm = h
	out := make(map[string]*wasm.Plugin, len(cfg.Plugins))
	var errs []error
	for _, pc := range cfg.Plugins {
		p, err := h.Load(ctx, pc)
		if err != nil {
			summary := "Invalid plugin"
			var ce *wasm.ConfigError
			if errors.As(err, &ce) {
				summary = "Plugin rejected its config"
			}
			errs = append(errs, &blockError{rng: pc.Range, summary: summary, err: err})
			continue
		}
		out[pc.Name] = p
	}
	// Every plugin is tried so that validate reports all of them at once.
	return out, errors.Join(errs...)
}

// routePipeline is the plugins that run on a route: the global pipeline, then
// the API's, then the route's own. A plugin listed at several levels runs
// once, at its first position.
func routePipeline(cfg *config.Gateway, rc *config.Route, loaded map[string]*wasm.Plugin) []pipeline.Plugin {
	n := len(cfg.Pipeline) + len(rc.Pipeline)
	if rc.API != nil {
		n += len(rc.API.Pipeline)
	}
	if n == 0 {
		return nil
	}
	out := make([]pipeline.Plugin, 0, n)
	seen := make(map[string]bool, n)
	add := func(list []*config.Plugin) {
		for _, pc := range list {
			if !seen[pc.Name] {
				seen[pc.Name] = true
				out = append(out, loaded[pc.Name])
			}
		}
	}
	add(cfg.Pipeline)
	if rc.API != nil {
		add(rc.API.Pipeline)
	}
	add(rc.Pipeline)
	return out
}

func newMock(m *config.Mock, ops config.HeaderOps) *mockResponse {
	h := make(http.Header, len(m.Headers)+2)
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	applyHeaderOps(h, ops)
	if h.Get("Content-Type") == "" && len(m.Body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	status := m.Status
	if status == 0 {
		status = http.StatusOK
	}
	h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	return &mockResponse{status: status, header: h, body: []byte(m.Body)}
}

// applyHeaderOps applies Remove, then Set, then Add.
func applyHeaderOps(h http.Header, ops config.HeaderOps) {
	for _, k := range ops.Remove {
		h.Del(k)
	}
	for k, v := range ops.Set {
		h.Set(k, v)
	}
	for k, v := range ops.Add {
		h.Add(k, v)
	}
}

// acquire takes a reference for one request. It fails when the generation was
// retired and its last request already finished (the caller loads the current
// generation again).
func (g *generation) acquire() bool {
	for {
		n := g.refs.Load()
		if n <= 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one closes drained.
func (g *generation) release() {
	if g.refs.Add(-1) == 0 {
		close(g.drained)
	}
}

// retire drops the owner's reference and, in the background, closes the
// generation once its in-flight requests are done or the drain timeout passes.
func (g *generation) retire(timeout time.Duration) {
	g.release()
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-g.drained:
		case <-t.C:
			g.logger.Warn("old configuration still had requests in flight after the drain timeout; closing it",
				"timeout", timeout.String())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.close(ctx)
	}()
}

// close releases the generation's resources. It is safe on a partly built one.
func (g *generation) close(ctx context.Context) {
	var errs []error
	if g.wasm != nil {
		if err := g.wasm.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close plugins: %w", err))
		}
	}
	if err := g.traffic.close(); err != nil {
		errs = append(errs, fmt.Errorf("close rate limiters and cache: %w", err))
	}
	for name, p := range g.pools {
		if err := p.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close upstream %q: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		g.logger.Warn("closing old configuration", "error", err)
	}
}
