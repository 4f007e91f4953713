package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wasmgate/gateway/host/admin"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/framing"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/metrics"
	"github.com/wasmgate/gateway/host/wsapi"
)

// Options configure a Gateway beyond its config file.
type Options struct {
	// ConfigPath is the file Reload reads again. Empty disables Reload.
	ConfigPath string
	// Logger is the process log. When nil, one is built from the config's log block.
	Logger *slog.Logger
	// AccessLog receives one line per request. When nil and the config enables
	// the access log, it writes JSON to the config's log output.
	AccessLog *slog.Logger
	// WatchInterval is how often the config file is checked for changes; 0 means
	// one second, a negative value disables watching.
	WatchInterval time.Duration
	// Version is reported by the admin API.
	Version string
	// WasmCacheDir is where compiled plugins are cached across restarts:
	// "" means the user cache dir (…/wasmgate), "off" disables the cache.
	WasmCacheDir string
}

// Gateway serves the data plane and the admin API for a sequence of config
// generations. Listeners live as long as the Gateway; each reload swaps the
// generation (router, upstreams, plugins) under them.
type Gateway struct {
	opts      Options
	logger    *slog.Logger
	accessLog *slog.Logger
	logOut    *logWriter // nil when logging goes to a caller-provided logger
	metrics   *metrics.Metrics
	sh        *shared
	kv        *kv.Memory

	gen      atomic.Pointer[generation]
	reloadMu sync.Mutex
	ready    atomic.Bool
	stopping atomic.Bool

	listeners []*listener
	servers   []*http.Server
	admin     *http.Server
	adminLn   net.Listener
	serveErr  chan error
	watchStop chan struct{}
	watchDone chan struct{}
}

// listener is one bound data-plane socket and its current certificate.
type listener struct {
	cfg  *config.Listener
	ln   net.Listener
	cert atomic.Pointer[tls.Certificate]
}

// New builds the first generation from cfg. It does not bind sockets; Start does.
func New(ctx context.Context, cfg *config.Gateway, opts Options) (*Gateway, error) {
	g := &Gateway{opts: opts, metrics: metrics.New(), serveErr: make(chan error, 8)}
	if opts.WatchInterval == 0 {
		g.opts.WatchInterval = time.Second
	}
	g.logger = opts.Logger
	g.accessLog = opts.AccessLog
	if g.logger == nil {
		w, closer, err := openLogOutput(cfg.Log.Output)
		if err != nil {
			return nil, fmt.Errorf("log output %q: %w; use stdout, stderr or a writable file path", cfg.Log.Output, err)
		}
		g.logOut = newLogWriter(w, closer)
		h := slog.NewJSONHandler(g.logOut, &slog.HandlerOptions{Level: parseLevel(cfg.Log.Level)})
		g.logger = slog.New(h)
		if g.accessLog == nil && cfg.Log.AccessLog {
			g.accessLog = slog.New(slog.NewJSONHandler(g.logOut, nil))
		}
	}
	g.kv = kv.NewMemory()
	g.sh = &shared{metrics: g.metrics, logger: g.logger, kv: g.kv, wasmCacheDir: opts.WasmCacheDir, onState: g.onUpstreamState}
	g.sh.hub = wsapi.NewHub(wsapi.Options{Logger: g.logger, Registerer: g.metrics.Registry})
	gen, err := newGeneration(ctx, cfg, g.sh)
	if err != nil {
		g.kv.Close()
		g.closeLogs()
		return nil, err
	}
	g.gen.Store(gen)
	g.bindWebSockets(gen)
	g.metrics.Registry.MustRegister(&upstreamCollector{g: g})
	if lw := g.logOut; lw != nil {
		g.metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gateway_log_dropped_lines_total",
			Help: fmt.Sprintf("Log lines dropped because the log output fell more than %d MiB behind.", maxPending>>20),
		}, func() float64 { return float64(lw.Dropped()) }))
	}
	return g, nil
}

// Metrics returns the process metrics (for embedding and tests).
func (g *Gateway) Metrics() *metrics.Metrics { return g.metrics }

// Config returns the config currently serving.
func (g *Gateway) Config() *config.Gateway { return g.gen.Load().cfg }

// current returns the serving generation with a reference taken.
func (g *Gateway) current() *generation {
	for {
		gen := g.gen.Load()
		if gen.acquire() {
			return gen
		}
	}
}

// Start binds every listener (data plane and admin) and serves in the
// background. Bind errors are returned before anything serves.
func (g *Gateway) Start(ctx context.Context) error {
	cfg := g.Config()
	for _, lc := range cfg.Listeners {
		l, err := g.bind(lc, cfg.Server.MaxHeaderBytes)
		if err != nil {
			g.closeListeners()
			return err
		}
		g.listeners = append(g.listeners, l)
	}
	if cfg.Admin.Address != "" {
		ln, err := net.Listen("tcp", cfg.Admin.Address)
		if err != nil {
			g.closeListeners()
			return fmt.Errorf("admin listener %s: %w; free the port or change admin_listen", cfg.Admin.Address, err)
		}
		g.adminLn = ln
		g.admin = &http.Server{
			Handler:           g.adminHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelDebug),
		}
	}
	srv := &cfg.Server
	for _, l := range g.listeners {
		scheme := "http"
		var p http.Protocols
		p.SetHTTP1(true)
		if l.cfg.TLS != nil {
			scheme = "https"
			// The framing guard terminates TLS itself; HTTP/2 negotiated by ALPN
			// reaches net/http as prior-knowledge HTTP/2 over the guarded conn.
			p.SetUnencryptedHTTP2(true)
		} else if l.cfg.H2C {
			p.SetUnencryptedHTTP2(true)
		}
		s := &http.Server{
			Handler:           listenerHandler{g: g, scheme: scheme},
			ReadTimeout:       srv.ReadTimeout,
			ReadHeaderTimeout: srv.ReadHeaderTimeout,
			WriteTimeout:      srv.WriteTimeout,
			IdleTimeout:       srv.IdleTimeout,
			MaxHeaderBytes:    srv.MaxHeaderBytes,
			Protocols:         &p,
			ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelDebug),
		}
		if l.cfg.TLS != nil {
			s.ConnContext = withConn
		}
		g.servers = append(g.servers, s)
		go func(s *http.Server, ln net.Listener) {
			if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.serveErr <- fmt.Errorf("listener %s: %w", ln.Addr(), err)
			}
		}(s, l.ln)
		g.logger.Info("listening", "listener", l.cfg.Name, "address", l.ln.Addr().String(), "tls", l.cfg.TLS != nil)
	}
	if g.admin != nil {
		go func() {
			if err := g.admin.Serve(g.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.serveErr <- fmt.Errorf("admin listener %s: %w", g.adminLn.Addr(), err)
			}
		}()
		g.logger.Info("admin listening", "address", g.adminLn.Addr().String())
	}
	if g.opts.ConfigPath != "" && g.opts.WatchInterval > 0 {
		g.watchStop = make(chan struct{})
		g.watchDone = make(chan struct{})
		go g.watch(g.opts.ConfigPath, g.opts.WatchInterval)
	}
	g.ready.Store(true)
	return nil
}

func (g *Gateway) bind(lc *config.Listener, maxHeaderBytes int) (*listener, error) {
	ln, err := net.Listen("tcp", lc.Address)
	if err != nil {
		return nil, fmt.Errorf("listener %q on %s: %w; free the port or change the address", lc.Name, lc.Address, err)
	}
	l := &listener{cfg: lc}
	opts := framing.Options{MaxHeaderBytes: maxHeaderBytes}
	if lc.TLS == nil {
		l.ln = framing.NewListener(ln, opts)
		return l, nil
	}
	cert, err := tls.LoadX509KeyPair(lc.TLS.CertFile, lc.TLS.KeyFile)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listener %q: load certificate %s: %w", lc.Name, lc.TLS.CertFile, err)
	}
	l.cert.Store(&cert)
	tc := &tls.Config{
		MinVersion: lc.TLS.MinVersion,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return l.cert.Load(), nil
		},
	}
	l.ln = framing.NewTLSListener(ln, tc, opts)
	return l, nil
}

// Addrs returns the bound data-plane addresses, in listener order.
func (g *Gateway) Addrs() []net.Addr {
	out := make([]net.Addr, len(g.listeners))
	for i, l := range g.listeners {
		out[i] = l.ln.Addr()
	}
	return out
}

// AdminAddr returns the admin listener's address, or nil.
func (g *Gateway) AdminAddr() net.Addr {
	if g.adminLn == nil {
		return nil
	}
	return g.adminLn.Addr()
}

// Wait blocks until ctx is done or a listener fails, then shuts down gracefully.
func (g *Gateway) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-g.serveErr:
		g.logger.Error("listener failed; shutting down", "error", err)
	}
	shutdownTimeout := g.Config().Server.ShutdownTimeout
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if serr := g.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	return err
}

// Shutdown stops accepting connections, waits for in-flight requests until ctx
// ends, then releases every resource.
func (g *Gateway) Shutdown(ctx context.Context) error {
	if !g.stopping.CompareAndSwap(false, true) {
		return nil
	}
	g.ready.Store(false)
	g.logger.Info("shutting down; draining in-flight requests")
	if g.watchStop != nil {
		close(g.watchStop)
		<-g.watchDone
	}
	var wg sync.WaitGroup
	errs := make([]error, len(g.servers))
	for i, s := range g.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Shutdown(ctx); err != nil {
				errs[i] = fmt.Errorf("drain listener: %w", err)
				s.Close()
			}
		}()
	}
	wg.Wait()
	if len(g.servers) == 0 {
		g.closeListeners()
	}
	// WebSocket clients get a 1001 close and their $disconnect runs while
	// the integrations are still up.
	if err := g.sh.hub.Shutdown(ctx); err != nil {
		g.logger.Warn("websocket connections did not all close in time", "error", err)
	}
	if gen := g.gen.Load(); gen != nil {
		gen.close(ctx)
	}
	if g.admin != nil {
		if err := g.admin.Shutdown(ctx); err != nil {
			g.admin.Close()
		}
	}
	g.kv.Close()
	err := errors.Join(errs...)
	if err != nil {
		g.logger.Warn("shutdown timed out with requests in flight", "error", err)
	} else {
		g.logger.Info("shutdown complete")
	}
	g.closeLogs()
	return err
}

func (g *Gateway) closeListeners() {
	for _, l := range g.listeners {
		l.ln.Close()
	}
	if g.adminLn != nil {
		g.adminLn.Close()
	}
}

func (g *Gateway) closeLogs() {
	if g.logOut != nil {
		g.logOut.Close()
	}
}

// ReloadError is a rejected reload: the config did not load or did not build.
// The previous generation keeps serving.
type ReloadError struct {
	// Diagnostics is the formatted config diagnostics (file:line:col), if any.
	Diagnostics string
	Err         error
}

func (e *ReloadError) Error() string {
	if e.Diagnostics != "" {
		return "config rejected; the previous config keeps serving:\n" + e.Diagnostics
	}
	return "config rejected; the previous config keeps serving: " + e.Err.Error()
}

func (e *ReloadError) Unwrap() error { return e.Err }

// Reload reads the config file again and, when it is valid and builds, swaps it
// in atomically. In-flight requests finish on the old generation.
func (g *Gateway) Reload(ctx context.Context) error {
	if g.opts.ConfigPath == "" {
		return errors.New("reload: the gateway was started without a config path")
	}
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	err := g.reload(ctx)
	g.metrics.Reload(err == nil)
	if err != nil {
		g.logger.Error("config reload rejected", "path", g.opts.ConfigPath, "error", err.Error())
		return err
	}
	g.logger.Info("config reloaded", "path", g.opts.ConfigPath)
	return nil
}

func (g *Gateway) reload(ctx context.Context) error {
	// Read once and parse what was read: a Stat then a second read could see
	// a writer truncate the file in between and load an empty config.
	src, err := os.ReadFile(g.opts.ConfigPath)
	if err != nil {
		return &ReloadError{Err: fmt.Errorf("read %s: %w; check the file and reload again", g.opts.ConfigPath, err)}
	}
	if len(bytes.TrimSpace(src)) == 0 {
		// Almost always a file caught mid-write; serving no routes is never
		// what the operator meant.
		return &ReloadError{Err: fmt.Errorf("%s is empty; write the whole config (or an explicit one) and reload again", g.opts.ConfigPath)}
	}
	cfg, diags := config.LoadBytes(g.opts.ConfigPath, src)
	if diags.HasErrors() {
		return &ReloadError{Diagnostics: config.FormatDiagnostics(diags), Err: diags}
	}
	old := g.gen.Load()
	if msg := restartOnlyChanges(old.cfg, cfg); msg != "" {
		g.logger.Warn("config changes that need a restart were ignored", "changes", msg)
	}
	gen, err := newGeneration(ctx, cfg, g.sh)
	if err != nil {
		return &ReloadError{Diagnostics: buildDiagnostics(cfg, err), Err: err}
	}
	g.reloadCerts(cfg)
	g.gen.Store(gen)
	g.bindWebSockets(gen)
	old.retire(old.cfg.Server.ShutdownTimeout)
	return nil
}

// bindWebSockets points the managed WebSocket connections at gen's APIs and
// its redis block (connections outlive reloads).
func (g *Gateway) bindWebSockets(gen *generation) {
	g.sh.hub.SetRedis(wsRedis(gen.cfg))
	g.sh.hub.Rebind(gen.wsAPIs)
}

// reloadCerts loads the certificates of listeners whose files may have changed.
// A certificate that does not load keeps the old one and logs why.
func (g *Gateway) reloadCerts(cfg *config.Gateway) {
	for _, l := range g.listeners {
		for _, lc := range cfg.Listeners {
			if lc.Name != l.cfg.Name || lc.TLS == nil || l.cfg.TLS == nil {
				continue
			}
			cert, err := tls.LoadX509KeyPair(lc.TLS.CertFile, lc.TLS.KeyFile)
			if err != nil {
				g.logger.Error("reload certificate; keeping the old one", "listener", lc.Name, "error", err)
				continue
			}
			l.cert.Store(&cert)
		}
	}
}

// restartOnlyChanges lists settings a reload cannot apply to live sockets.
func restartOnlyChanges(old, cur *config.Gateway) string {
	var diffs []string
	if len(old.Listeners) != len(cur.Listeners) {
		diffs = append(diffs, "listeners")
	} else {
		for i := range old.Listeners {
			o, c := old.Listeners[i], cur.Listeners[i]
			if o.Address != c.Address || o.H2C != c.H2C || (o.TLS == nil) != (c.TLS == nil) {
				diffs = append(diffs, "listener "+c.Name)
			}
		}
	}
	if old.Admin.Address != cur.Admin.Address {
		diffs = append(diffs, "admin_listen")
	}
	if old.Server.ReadTimeout != cur.Server.ReadTimeout || old.Server.WriteTimeout != cur.Server.WriteTimeout ||
		old.Server.IdleTimeout != cur.Server.IdleTimeout || old.Server.ReadHeaderTimeout != cur.Server.ReadHeaderTimeout ||
		old.Server.MaxHeaderBytes != cur.Server.MaxHeaderBytes {
		diffs = append(diffs, "server timeouts/max_header_bytes")
	}
	if old.Log != cur.Log {
		diffs = append(diffs, "log")
	}
	return fmt.Sprint(diffs)[1 : len(fmt.Sprint(diffs))-1]
}

// watch polls the config file and reloads when its size or mtime changes.
func (g *Gateway) watch(path string, every time.Duration) {
	defer close(g.watchDone)
	stamp := func() (time.Time, int64) {
		fi, err := os.Stat(path)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	mt, sz := stamp()
	var (
		pending bool
		pm      time.Time
		ps      int64
	)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-g.watchStop:
			return
		case <-t.C:
		}
		m, s := stamp()
		if s < 0 || (m.Equal(mt) && s == sz) {
			pending = false
			continue
		}
		if !pending || !m.Equal(pm) || s != ps {
			// Changed since the last look: wait one more interval for the
			// writer to finish, so a half-written file is never loaded.
			pending, pm, ps = true, m, s
			continue
		}
		pending = false
		mt, sz = m, s
		g.logger.Info("config file changed; reloading", "path", path)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = g.Reload(ctx) // Reload logs its own outcome.
		cancel()
	}
}

func (g *Gateway) onUpstreamState(up, target, from, to string) {
	g.logger.Warn("upstream target state changed", "upstream", up, "target", target, "from", from, "to", to)
}

func (g *Gateway) adminHandler() http.Handler {
	return g.withTrafficAdmin(admin.New(admin.Options{
		Metrics: g.metrics.Handler(),
		Ready:   g.ready.Load,
		Config: func() ([]byte, error) {
			return g.Config().RedactedJSON()
		},
		Reload: func(ctx context.Context) error {
			return g.Reload(ctx)
		},
		Version: g.opts.Version,
	}))
}

type connKey struct{}

// withConn stores the connection in the request context so the handler can read
// its TLS state (the framing guard terminates TLS, so r.TLS is nil).
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

func openLogOutput(out string) (io.Writer, io.Closer, error) {
	switch out {
	case "", "stdout":
		return os.Stdout, nil, nil
	case "stderr":
		return os.Stderr, nil, nil
	}
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return f, f, nil
}

func parseLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
