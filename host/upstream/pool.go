package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/wasmgate/gateway/host/config"
)

// Options are the runtime dependencies of a Pool that do not come from config.
type Options struct {
	// Logger receives state changes of targets. Nil discards them.
	Logger *slog.Logger
	// OnStateChange is called when a target's breaker or health changes state,
	// for metrics and logs. It may be nil. It is called synchronously, sometimes
	// while the target's breaker is locked: it must be quick and must not call
	// Pick on the same pool (Snapshot is fine).
	//
	// The states are "closed", "open" and "half-open" for breakers, "healthy"
	// and "unhealthy" for active health checks, and "healthy" and "ejected" for
	// passive health.
	OnStateChange func(upstream, target string, from, to string)
}

// Pool is the runtime form of one config.Upstream: its targets, one shared
// *http.Transport, a balancer, health state and circuit breakers. All methods
// are safe for concurrent use.
type Pool struct {
	cfg       *config.Upstream
	logger    *slog.Logger
	onState   func(upstream, target, from, to string)
	targets   []*Target
	transport *http.Transport
	hashOn    hashOn

	// Exactly one balancer is set, the one named by cfg.Balance.
	rr   *roundRobin
	lr   *leastRequests
	hrw  *rendezvous
	rand *weightedRandom

	// now is the clock of passive ejection; tests replace it.
	now func() time.Time
	// rnd draws the random balancer's numbers; tests replace it with a seeded source.
	rnd func() uint64

	// health is nil without active health checks.
	health *healthChecker

	closeOnce sync.Once
	stop      context.CancelFunc // stops the health-check goroutine; nil if none
	stopped   chan struct{}      // closed when the health-check goroutine returns
}

// TargetState is a point-in-time view of one target, for metrics.
type TargetState struct {
	Upstream string
	Target   string
	// Healthy is false while active health checks hold the target out.
	Healthy bool
	// Ejected is true while passive health holds the target out.
	Ejected bool
	// Breaker is "closed", "open" or "half-open"; "closed" without a breaker.
	Breaker string
	// InFlight counts requests picked for the target and not yet Done.
	InFlight int64
}

// New builds the pool for cfg and starts its active health checks, which run
// until Close. ctx is used only during construction. On error nothing is left
// running and the returned pool is nil.
func New(ctx context.Context, cfg *config.Upstream, opts Options) (p *Pool, err error) {
	if cfg == nil {
		return nil, errors.New("build upstream pool: no upstream config; pass a *config.Upstream from config.Load")
	}
	p = &Pool{
		cfg:     cfg,
		logger:  opts.Logger,
		onState: opts.OnStateChange,
		now:     time.Now,
		rnd:     rand.Uint64,
		stopped: make(chan struct{}),
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			_ = p.Close(ctx)
			p = nil
		}
	}()

	if len(cfg.Targets) == 0 {
		return nil, errors.New("no targets; add at least one target to the upstream block")
	}
	if p.hashOn, err = parseHashOn(cfg.HashOn); err != nil {
		return nil, err
	}
	anyHTTPS := false
	weights := make([]int, len(cfg.Targets))
	p.targets = make([]*Target, len(cfg.Targets))
	for i, tc := range cfg.Targets {
		t, err := newTarget(p, i, tc)
		if err != nil {
			return nil, err
		}
		p.targets[i] = t
		weights[i] = t.weight
		anyHTTPS = anyHTTPS || t.url.Scheme == "https"
	}
	p.transport = newTransport(cfg, anyHTTPS)

	switch cfg.Balance {
	case config.BalanceRoundRobin, "":
		p.rr = newRoundRobin(weights)
	case config.BalanceLeastRequests:
		p.lr = &leastRequests{}
	case config.BalanceHash:
		p.hrw = newRendezvous(p.targets, weights)
	case config.BalanceRandom:
		p.rand = newWeightedRandom(weights)
	default:
		return nil, fmt.Errorf("unknown balance %q; use %q, %q, %q or %q", cfg.Balance,
			config.BalanceRoundRobin, config.BalanceLeastRequests, config.BalanceHash, config.BalanceRandom)
	}

	if cb := cfg.CircuitBreaker; cb != nil {
		if err := checkBreaker(cb); err != nil {
			return nil, err
		}
		for _, t := range p.targets {
			t.breaker = newBreaker(p, t, cb)
		}
	}
	if ph := cfg.PassiveHealth; ph != nil && (ph.ConsecutiveFailures <= 0 || ph.EjectDuration <= 0) {
		return nil, fmt.Errorf("passive health: consecutive_failures (%d) and eject_duration (%s) must be positive",
			ph.ConsecutiveFailures, ph.EjectDuration)
	}
	if hc := cfg.HealthCheck; hc != nil {
		if p.health, err = newHealthChecker(p, hc); err != nil {
			return nil, err
		}
		hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		p.stop = cancel
		go p.health.run(hctx, p.stopped)
	}
	return p, nil
}

// Close stops the health checks and closes idle connections. It waits for a
// running health check to return, at most until ctx is done. It is safe on a
// nil or partly built pool and safe to call more than once.
func (p *Pool) Close(ctx context.Context) error {
	if p == nil {
		return nil
	}
	var err error
	p.closeOnce.Do(func() {
		if p.stop != nil {
			p.stop()
			select {
			case <-p.stopped:
			case <-ctx.Done():
				err = fmt.Errorf("close upstream %q: wait for health checks to stop: %w", p.cfg.Name, ctx.Err())
			}
		}
		if p.transport != nil {
			p.transport.CloseIdleConnections()
		}
	})
	return err
}

// Name is the upstream's name.
func (p *Pool) Name() string { return p.cfg.Name }

// Config is the upstream's config. It must not be modified.
func (p *Pool) Config() *config.Upstream { return p.cfg }

// Transport is the round tripper shared by all targets of the pool.
func (p *Pool) Transport() http.RoundTripper { return p.transport }

// Snapshot reports the state of every target, in config order.
func (p *Pool) Snapshot() []TargetState {
	now := p.now().UnixNano()
	wall := time.Now().UnixNano()
	out := make([]TargetState, len(p.targets))
	for i, t := range p.targets {
		until := t.ejectedUntil.Load()
		out[i] = TargetState{
			Upstream: p.cfg.Name,
			Target:   t.raw,
			Healthy:  t.healthy.Load(),
			Ejected:  until != 0 && now < until,
			Breaker:  t.breakerState(wall),
			InFlight: t.inFlight.Load(),
		}
	}
	return out
}

// stateChange reports a target's state change to the log and Options.OnStateChange.
func (p *Pool) stateChange(t *Target, from, to string) {
	p.logger.Info("upstream target state changed",
		slog.String("upstream", p.cfg.Name), slog.String("target", t.raw),
		slog.String("from", from), slog.String("to", to))
	if p.onState != nil {
		p.onState(p.cfg.Name, t.raw, from, to)
	}
}

// parseTargetURL checks that raw is an absolute http or https URL.
func parseTargetURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w; write it as http://host:port or https://host:port with an optional base path", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q: not an absolute http or https URL; write it as http://host:port or https://host:port with an optional base path", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("target %q: has a query, fragment or user info; keep only scheme, host, port and base path", raw)
	}
	return u, nil
}
