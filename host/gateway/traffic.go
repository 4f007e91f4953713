package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wasmgate/gateway/host/cache"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/metrics"
	"github.com/wasmgate/gateway/host/proxy"
	"github.com/wasmgate/gateway/host/quota"
	"github.com/wasmgate/gateway/host/ratelimit"
)

// Properties set by auth plugins (key-auth, jwt) that name the consumer a
// rate limit with key = "consumer" counts by, in order of preference.
const (
	PropertyKeyID     = "auth.key_id"
	PropertyPrincipal = "auth.principal"
	PropertyConsumer  = "auth.consumer"
)

// tooManyRequests is the body message of a rate-limited request (AWS wording).
const tooManyRequests = "Too Many Requests"

// trafficMetrics are the rate limit and cache counters. They are registered
// once per registry and shared by every generation built on it.
type trafficMetrics struct {
	decisions     *prometheus.CounterVec // limit, result
	backendErrors *prometheus.CounterVec // limit, mode
	cache         *prometheus.CounterVec // route, result
	exhausted     *prometheus.CounterVec // plan
}

// newTrafficMetrics registers the traffic counters on reg, or returns the
// ones a previous generation registered.
func newTrafficMetrics(reg prometheus.Registerer) *trafficMetrics {
	return &trafficMetrics{
		decisions: registerCounterVec(reg, prometheus.CounterOpts{
			Name: "gateway_ratelimit_decisions_total",
			Help: "Rate limit decisions by limit and result (allowed, denied).",
		}, "limit", "result"),
		backendErrors: registerCounterVec(reg, prometheus.CounterOpts{
			Name: "gateway_ratelimit_backend_errors_total",
			Help: "Rate limit backend (Redis) failures by limit and the fail mode applied (open, closed).",
		}, "limit", "mode"),
		exhausted: registerCounterVec(reg, prometheus.CounterOpts{
			Name: "gateway_quota_exhausted_total",
			Help: "Requests refused with 429 Limit Exceeded because the key's usage plan quota was used up, by plan.",
		}, "plan"),
		cache: registerCounterVec(reg, prometheus.CounterOpts{
			Name: "gateway_cache_requests_total",
			Help: "Response cache lookups by route and result (hit, miss, bypass, error).",
		}, "route", "result"),
	}
}

// registerCounterVec registers a counter vector, reusing an identical one
// already registered (a reload builds a new generation on the same registry).
func registerCounterVec(reg prometheus.Registerer, opts prometheus.CounterOpts, labels ...string) *prometheus.CounterVec {
	return metrics.Register(reg, prometheus.NewCounterVec(opts, labels))
}

// traffic is a generation's rate limiters and response cache store.
type traffic struct {
	metrics *trafficMetrics
	local   *ratelimit.Local
	redis   redis.UniversalClient // nil without a redis block
	cache   cache.Store           // nil when no route caches
	kv      kv.Store              // the plugins' KV store when kv { backend = "redis" }; else nil
	limits  map[string]*limit
	plans   map[string]*plan
	keys    *cachedKeys   // API keys: in Redis when configured, else in process
	quota   quota.Counter // usage plan quotas: in Redis when configured, else in process
}

// localTraffic is the in-process state that must survive reloads: API
// keys, quota counts and usage plan buckets of a gateway without Redis.
type localTraffic struct {
	keys    *cachedKeys
	quota   *quota.Local
	limiter *ratelimit.Local
}

func newLocalTraffic() *localTraffic {
	return &localTraffic{
		keys:  newCachedKeys(newMemoryKeys()),
		quota: quota.NewLocal(quota.LocalOptions{}),
		// No sweeper goroutine: it would outlive the gateway; MaxKeys bounds memory.
		limiter: ratelimit.NewLocal(ratelimit.LocalOptions{SweepInterval: -1}),
	}
}

// limit is the runtime form of one config.RateLimit.
type limit struct {
	cfg     *config.RateLimit
	limiter ratelimit.Limiter
	// global: the limit counts every request in one bucket unless its key
	// names a per-client scope (gateway-level limits).
	global bool
	// fixed is the bucket key when it does not depend on the request
	// (route and api scopes), computed once per route; "" otherwise.
	fixed  string
	window time.Duration // burst/rate, for RateLimit-Policy
	// decided caches the counters of the limit's two results.
	allowed, denied prometheus.Counter
}

// newTraffic builds the limiters and the cache store cfg declares. It
// returns nil when cfg uses no traffic feature.
func newTraffic(cfg *config.Gateway, sh *shared) (*traffic, error) {
	reg := sh.metrics.Registry
	needCache := false
	for _, rc := range cfg.Routes {
		if rc.Cache != nil {
			needCache = true
		}
	}
	if len(cfg.RateLimits) == 0 && len(cfg.UsagePlans) == 0 && !needCache && cfg.KV.Backend != "redis" {
		return nil, nil
	}
	t := &traffic{metrics: newTrafficMetrics(reg), limits: make(map[string]*limit, len(cfg.RateLimits))}
	if rc := cfg.Redis; rc != nil {
		t.redis = redis.NewClient(&redis.Options{
			Addr:         rc.Address,
			DB:           rc.DB,
			DialTimeout:  rc.DialTimeout,
			ReadTimeout:  rc.Timeout,
			WriteTimeout: rc.Timeout,
			PoolTimeout:  rc.Timeout + rc.DialTimeout,
			MaxRetries:   -1, // a failed command is answered by the fail mode, not retried
			// One dial per command: while Redis is down, requests get the
			// fail-mode answer after one refused or timed-out dial.
			DialerRetries:      1,
			DialerRetryTimeout: time.Millisecond,
		})
	}
	for _, rl := range cfg.RateLimits {
		l := &limit{
			cfg:     rl,
			window:  time.Duration(float64(rl.Burst) / rl.Rate * float64(time.Second)),
			allowed: t.metrics.decisions.WithLabelValues(rl.Name, "allowed"),
			denied:  t.metrics.decisions.WithLabelValues(rl.Name, "denied"),
		}
		switch rl.Backend {
		case "redis":
			if t.redis == nil {
				return nil, fmt.Errorf("rate_limit %q uses the redis backend but no redis block is declared; add one", rl.Name)
			}
			mode := ratelimit.FailOpen
			if rl.OnBackendError == config.OnErrorDeny {
				mode = ratelimit.FailClosed
			}
			errs := t.metrics.backendErrors.WithLabelValues(rl.Name, mode.String())
			l.limiter = ratelimit.WithFallback(ratelimit.NewRedis(t.redis, ratelimit.RedisOptions{Prefix: redisPrefix(cfg, "rl:")}), mode,
				func(error) { errs.Inc() })
		default:
			if t.local == nil {
				t.local = ratelimit.NewLocal(ratelimit.LocalOptions{})
			}
			l.limiter = t.local
		}
		t.limits[rl.Name] = l
	}
	if cfg.KV.Backend == "redis" {
		if t.redis == nil {
			return nil, errors.New("kv uses the redis backend but no redis block is declared; add one")
		}
		prefix := cfg.KV.Prefix
		if prefix == "" {
			prefix = redisPrefix(cfg, kv.DefaultRedisPrefix)
		}
		t.kv = kv.NewRedis(t.redis, prefix)
	}
	if sh.local == nil {
		sh.local = newLocalTraffic()
	}
	t.keys, t.quota = sh.local.keys, sh.local.quota
	if t.redis != nil {
		t.keys = newCachedKeys(&redisKeys{c: t.redis, prefix: redisPrefix(cfg, "apikey:")})
		t.quota = quota.NewRedis(t.redis, quota.RedisOptions{Prefix: redisPrefix(cfg, "quota:")})
	}
	t.plans = make(map[string]*plan, len(cfg.UsagePlans))
	for _, up := range cfg.UsagePlans {
		mode := ratelimit.FailOpen
		if up.OnBackendError == config.OnErrorDeny {
			mode = ratelimit.FailClosed
		}
		p := &plan{
			cfg:       up,
			exhausted: t.metrics.exhausted.WithLabelValues(up.Name),
			errs:      t.metrics.backendErrors.WithLabelValues("plan:"+up.Name, mode.String()),
		}
		if up.Quota != nil {
			per, err := quota.ParsePeriod(up.Quota.Period)
			if err != nil {
				return nil, fmt.Errorf("usage_plan %q: %w", up.Name, err)
			}
			p.period = per
		}
		if up.Rate > 0 {
			p.window = time.Duration(float64(up.Burst) / up.Rate * float64(time.Second))
			p.limiter = sh.local.limiter
			if t.redis != nil {
				errs := p.errs
				p.limiter = ratelimit.WithFallback(ratelimit.NewRedis(t.redis, ratelimit.RedisOptions{Prefix: redisPrefix(cfg, "rl:")}), mode,
					func(error) { errs.Inc() })
			}
		}
		t.plans[up.Name] = p
	}
	if needCache {
		switch cfg.CacheStore.Backend {
		case "redis":
			if t.redis == nil {
				return nil, errors.New("cache_store uses the redis backend but no redis block is declared; add one")
			}
			t.cache = cache.NewRedis(t.redis, cache.RedisOptions{Prefix: redisPrefix(cfg, "cache:")})
		default:
			t.cache = cache.NewMemory(cfg.CacheStore.MaxBytes)
		}
	}
	return t, nil
}

// redisPrefix is the key prefix of one use of the shared Redis.
func redisPrefix(cfg *config.Gateway, use string) string {
	return cfg.Redis.Prefix + use
}

// pluginKV returns the KV store plugins use: Redis when the config says
// kv { backend = "redis" }, else the process-wide in-memory store def.
func (t *traffic) pluginKV(def kv.Store) kv.Store {
	if t == nil || t.kv == nil {
		return def
	}
	return t.kv
}

// routeLimits returns the limits that apply to rc, in order: the gateway's
// (account-level), the API's, the route's. A limit referenced at several
// levels applies once.
func (t *traffic) routeLimits(cfg *config.Gateway, rc *config.Route) []*limit {
	if t == nil {
		return nil
	}
	var out []*limit
	add := func(rl *config.RateLimit, global bool) {
		if rl == nil {
			return
		}
		for _, l := range out {
			if l.cfg == rl {
				return
			}
		}
		l := *t.limits[rl.Name]
		l.global = global
		if rl.Key == config.RateLimitKeyRoute || rl.Key == config.RateLimitKeyAPI {
			l.fixed = scopeKey(&l, rc)
		}
		out = append(out, &l)
	}
	add(cfg.RateLimit, true)
	if rc.API != nil {
		add(rc.API.RateLimit, false)
	}
	add(rc.RateLimit, false)
	return out
}

// close releases the limiters' goroutine and the Redis connections.
func (t *traffic) close() error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.local != nil {
		errs = append(errs, t.local.Close())
	}
	if t.redis != nil {
		errs = append(errs, t.redis.Close())
	}
	return errors.Join(errs...)
}

// scopeKey is the bucket key of a route- or api-scoped limit on rc.
func scopeKey(l *limit, rc *config.Route) string {
	scope := "r:" + rc.Key
	switch {
	case l.global:
		scope = "all"
	case l.cfg.Key == config.RateLimitKeyAPI && rc.API != nil:
		scope = "api:" + rc.API.Name
	}
	return l.cfg.Name + "|" + scope
}

// bucket returns the bucket key of l for the request.
func (st *reqState) bucket(l *limit, r *http.Request) string {
	if l.fixed != "" {
		return l.fixed
	}
	var scope string
	switch l.cfg.Key {
	case config.RateLimitKeyIP:
		scope = "ip:" + st.clientIP
	case config.RateLimitKeyHeader:
		if v := r.Header.Get(l.cfg.Header); v != "" {
			scope = "h:" + v
		} else {
			scope = "ip:" + st.clientIP // no header: count by client instead
		}
	case config.RateLimitKeyConsumer:
		scope = "ip:" + st.clientIP // anonymous: count by client
		for _, p := range [...]string{PropertyKeyID, PropertyPrincipal, PropertyConsumer} {
			if v, ok := st.info.Property(p); ok && v != "" {
				scope = "c:" + v
				break
			}
		}
	default: // route and api scopes, for a limit not built by routeLimits
		return scopeKey(l, st.rt.cfg)
	}
	return l.cfg.Name + "|" + scope
}

// admit applies the route's rate limits. It writes the RateLimit-* headers
// of the most constraining limit and, when one denies the request, the 429
// answer, and then reports false.
func (st *reqState) admit(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
	var (
		tightest ratelimit.Decision
		window   time.Duration
		have     bool
	)
	for _, l := range st.rt.limits {
		d, err := l.limiter.Allow(ctx, st.bucket(l, r), l.cfg.Rate, l.cfg.Burst)
		if err != nil { // the client went away, or an invalid limit: nothing sensible to enforce
			st.ex.Err = fmt.Errorf("rate limit %q: %w", l.cfg.Name, err)
			continue
		}
		if !d.Allowed {
			l.denied.Inc()
			ratelimit.Headers(w.Header(), d, l.window)
			proxy.WriteError(w, http.StatusTooManyRequests, tooManyRequests, st.reqID)
			return false
		}
		l.allowed.Inc()
		if !have || d.Remaining < tightest.Remaining {
			tightest, window, have = d, l.window, true
		}
	}
	if have {
		ratelimit.Headers(w.Header(), tightest, window)
	}
	if st.rt.plans != nil {
		return st.admitPlan(ctx, w, r)
	}
	return true
}
