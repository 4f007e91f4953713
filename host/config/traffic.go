package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Defaults of the traffic-management blocks. docs/configuration.md lists them.
const (
	DefaultRedisDialTimeout = 500 * time.Millisecond
	DefaultRedisTimeout     = 200 * time.Millisecond
	DefaultCacheMaxBytes    = 64 << 20
)

// Redis is the shared Redis server of the top-level redis block, used by
// rate limits with backend = "redis" and by a cache_store with backend = "redis".
type Redis struct {
	Address     string        // host:port
	DB          int           // database number
	Prefix      string        // prepended to every key ("" = each library's default)
	DialTimeout time.Duration // connect timeout
	Timeout     time.Duration // read and write timeout of one command
	Range       hcl.Range
}

// RateLimitKey names what a rate limit counts requests by.
type RateLimitKey string

// The rate limit scopes. A header scope is written "header:NAME" and kept
// as is in RateLimit.Key with RateLimit.Header holding NAME.
const (
	RateLimitKeyRoute    RateLimitKey = "route"
	RateLimitKeyAPI      RateLimitKey = "api"
	RateLimitKeyConsumer RateLimitKey = "consumer"
	RateLimitKeyIP       RateLimitKey = "ip"
	RateLimitKeyHeader   RateLimitKey = "header"
	RateLimitKeyGlobal   RateLimitKey = "global"
)

// RateLimit is a named token bucket (AWS semantics: rate requests per second
// refill a bucket of burst requests), declared at top level and attached by
// reference to the gateway block (account-wide), an api or a route.
type RateLimit struct {
	Name  string
	Rate  float64 // tokens per second
	Burst int     // bucket size; default ceil(Rate), at least 1
	// Key is the scope; RateLimitKeyHeader with Header set for "header:NAME".
	Key RateLimitKey
	// Header is the canonical header name for Key == RateLimitKeyHeader.
	Header string
	// Backend is "local" (this process) or "redis" (shared by every
	// instance using the same redis block).
	Backend string
	// OnBackendError is what happens when the redis backend fails:
	// OnErrorAllow (fail open, the default) or OnErrorDeny (fail closed).
	OnBackendError OnError
	Range          hcl.Range
}

// CacheStore is the response cache storage of the top-level cache_store block.
type CacheStore struct {
	Backend  string // "memory" (default) or "redis"
	MaxBytes int64  // memory backend budget; default DefaultCacheMaxBytes
	Range    hcl.Range
}

// RouteCache enables the response cache on a route.
type RouteCache struct {
	TTL     time.Duration // freshness when the response does not say; required
	Query   []string      // query parameters that are part of the cache key
	Headers []string      // request headers that are part of the cache key
	// AllowClientInvalidation lets a client's Cache-Control: max-age=0 bypass
	// and refresh the cached entry (AWS "require authorization" off).
	AllowClientInvalidation bool
}

// UsagePlan is a usage_plan block: the throttle and quota that API keys
// attached to the plan get (AWS usage plans). Routes covered by at least
// one plan require an API key that is attached to a plan covering them.
type UsagePlan struct {
	Name  string
	Rate  float64 // per-key requests per second; 0 = no throttle
	Burst int     // per-key bucket; default ceil(Rate)
	// Quota is the per-key request quota; nil = none.
	Quota *Quota
	// Routes are the route keys ("GET /v1/items") the plan covers; empty
	// means every route.
	Routes []*Route
	// OnBackendError is what happens when Redis fails: OnErrorAllow (default)
	// or OnErrorDeny.
	OnBackendError OnError
	Range          hcl.Range
}

// Quota is a usage plan's request quota per key and calendar period (UTC).
type Quota struct {
	Limit  int64
	Period string // "day", "week" or "month"
}

// usagePlanBlock decodes a top-level usage_plan "name" block. Its routes
// are resolved by resolveUsagePlans once every route is decoded.
func (d *decoder) usagePlanBlock(b *hcl.Block, idx int) (*UsagePlan, *hcl.Attribute) {
	ptr := "/usage_plans/" + strconv.Itoa(idx)
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "rate"}, {Name: "burst"}, {Name: "routes"}, {Name: "on_backend_error"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "quota"}},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	up := &UsagePlan{Name: b.Labels[0], OnBackendError: OnErrorAllow, Range: b.DefRange}
	if at := a["rate"]; at != nil && d.float(at, ptr+"/rate", &up.Rate) && !(up.Rate > 0) {
		d.errorf(at.Expr.Range(), "Invalid rate", "usage_plan %q has rate %v; write a positive number of requests per second, or leave rate out for no throttle.", up.Name, up.Rate)
	}
	d.number(a["burst"], ptr+"/burst", 1, &up.Burst)
	if up.Burst == 0 && up.Rate > 0 {
		up.Burst = max(int(up.Rate+0.999999), 1)
	}
	var oe string
	if d.oneOf(a["on_backend_error"], ptr+"/on_backend_error", []string{"allow", "deny"}, &oe) {
		up.OnBackendError = OnError(oe)
	}
	for i, qb := range content.Blocks {
		if i > 0 {
			d.errorf(qb.DefRange, "Duplicate quota block", "Only one quota block is allowed in a usage_plan. Previous definition was at %s; merge the two.", posString(content.Blocks[0].DefRange))
			continue
		}
		qc, diags := qb.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "limit", Required: true}, {Name: "period", Required: true}}})
		d.diags = append(d.diags, diags...)
		q := &Quota{}
		var lim int
		if d.number(qc.Attributes["limit"], ptr+"/quota/limit", 0, &lim) {
			q.Limit = int64(lim)
		}
		if d.oneOf(qc.Attributes["period"], ptr+"/quota/period", []string{"day", "week", "month"}, &q.Period) {
			up.Quota = q
		}
	}
	return up, a["routes"]
}

// resolveUsagePlans resolves the plans' route keys against the decoded routes.
func (d *decoder) resolveUsagePlans(g *Gateway, routesAttr map[*UsagePlan]*hcl.Attribute) {
	byKey := make(map[string]*Route, len(g.Routes))
	for _, rt := range g.Routes {
		byKey[rt.Key] = rt
	}
	for i, up := range g.UsagePlans {
		at := routesAttr[up]
		if at == nil {
			continue
		}
		var keys []string
		if _, ok := d.strings(at, "/usage_plans/"+strconv.Itoa(i)+"/routes", &keys); !ok {
			continue
		}
		for _, k := range keys {
			rt, ok := byKey[k]
			if !ok {
				d.errorf(at.Expr.Range(), "Unknown route", "usage_plan %q lists route %q, which is not defined. Use a route key as written, with the API base path, such as \"GET /v1/items\".", up.Name, k)
				continue
			}
			up.Routes = append(up.Routes, rt)
		}
	}
}

// KVStore is the kv block: where the plugins' shared KV store lives.
type KVStore struct {
	Backend string // "memory" (default, per process) or "redis" (shared by every instance)
	Prefix  string // Redis key prefix; "" = "kv:" after the redis block's prefix
	Range   hcl.Range
}

// kvBlock decodes the top-level kv block.
func (d *decoder) kvBlock(b *hcl.Block, kv *KVStore) {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "backend"}, {Name: "prefix"}}})
	d.diags = append(d.diags, diags...)
	kv.Range = b.DefRange
	d.oneOf(content.Attributes["backend"], "/kv/backend", []string{"memory", "redis"}, &kv.Backend)
	d.str(content.Attributes["prefix"], "/kv/prefix", &kv.Prefix)
}

// rateLimitBlock decodes a top-level rate_limit "name" block.
func (d *decoder) rateLimitBlock(b *hcl.Block, idx int) *RateLimit {
	ptr := "/rate_limits/" + strconv.Itoa(idx)
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "rate", Required: true}, {Name: "burst"}, {Name: "key"}, {Name: "backend"}, {Name: "on_backend_error"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	rl := &RateLimit{Name: b.Labels[0], Key: RateLimitKeyRoute, Backend: "local", OnBackendError: OnErrorAllow, Range: b.DefRange}
	if at := a["rate"]; at != nil && d.float(at, ptr+"/rate", &rl.Rate) && !(rl.Rate > 0) {
		d.errorf(at.Expr.Range(), "Invalid rate", "rate_limit %q has rate %v; write a positive number of requests per second, such as 100 or 0.5.", rl.Name, rl.Rate)
	}
	if at := a["burst"]; at != nil {
		d.number(at, ptr+"/burst", 1, &rl.Burst)
	}
	if rl.Burst == 0 {
		rl.Burst = max(int(rl.Rate+0.999999), 1)
	}
	if at := a["key"]; at != nil {
		var k string
		if secret, ok := d.str(at, ptr+"/key", &k); ok {
			switch name, isHeader := strings.CutPrefix(k, "header:"); {
			case k == "route" || k == "api" || k == "consumer" || k == "ip":
				rl.Key = RateLimitKey(k)
			case isHeader && validHeaderName(name):
				rl.Key, rl.Header = RateLimitKeyHeader, canonicalHeader(name)
			default:
				d.errorf(at.Expr.Range(), "Invalid key", "%s is not a rate limit key. Use \"route\", \"api\", \"consumer\", \"ip\" or \"header:NAME\".", show(k, secret))
			}
		}
	}
	d.oneOf(a["backend"], ptr+"/backend", []string{"local", "redis"}, &rl.Backend)
	var oe string
	if d.oneOf(a["on_backend_error"], ptr+"/on_backend_error", []string{"allow", "deny"}, &oe) {
		rl.OnBackendError = OnError(oe)
	}
	return rl
}

// canonicalHeader returns the canonical MIME form of a header name.
func canonicalHeader(s string) string {
	b := []byte(strings.ToLower(s))
	upper := true
	for i, c := range b {
		if upper && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

// redisBlock decodes the top-level redis block.
func (d *decoder) redisBlock(b *hcl.Block) *Redis {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "address", Required: true}, {Name: "db"}, {Name: "prefix"}, {Name: "dial_timeout"}, {Name: "timeout"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	r := &Redis{DialTimeout: DefaultRedisDialTimeout, Timeout: DefaultRedisTimeout, Range: b.DefRange}
	if at := a["address"]; at != nil {
		if secret, ok := d.str(at, "/redis/address", &r.Address); ok && !strings.Contains(r.Address, ":") {
			d.errorf(at.Expr.Range(), "Invalid address", "The redis address %s has no port; write host:port, such as \"127.0.0.1:6379\".", show(r.Address, secret))
		}
	}
	d.number(a["db"], "/redis/db", 0, &r.DB)
	d.str(a["prefix"], "/redis/prefix", &r.Prefix)
	d.duration(a["dial_timeout"], "/redis/dial_timeout", &r.DialTimeout)
	d.duration(a["timeout"], "/redis/timeout", &r.Timeout)
	return r
}

// cacheStoreBlock decodes the top-level cache_store block.
func (d *decoder) cacheStoreBlock(b *hcl.Block, cs *CacheStore) {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "backend"}, {Name: "max_bytes"}}})
	d.diags = append(d.diags, diags...)
	cs.Range = b.DefRange
	d.oneOf(content.Attributes["backend"], "/cache_store/backend", []string{"memory", "redis"}, &cs.Backend)
	d.size(content.Attributes["max_bytes"], "/cache_store/max_bytes", &cs.MaxBytes)
}

// routeCache decodes a route's cache block.
func (d *decoder) routeCache(b *hcl.Block, ptr string) *RouteCache {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "ttl", Required: true}, {Name: "query"}, {Name: "headers"}, {Name: "allow_client_invalidation"},
	}})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	c := &RouteCache{}
	if at := a["ttl"]; at != nil && d.duration(at, ptr+"/ttl", &c.TTL) && c.TTL <= 0 {
		d.errorf(at.Expr.Range(), "Invalid ttl", "The cache ttl must be positive, such as \"30s\".")
	}
	d.strings(a["query"], ptr+"/query", &c.Query)
	d.strings(a["headers"], ptr+"/headers", &c.Headers)
	d.boolean(a["allow_client_invalidation"], ptr+"/allow_client_invalidation", &c.AllowClientInvalidation)
	return c
}

// rateLimitRef resolves rate_limit = rate_limit.NAME.
func (r *resolver) rateLimitRef(at *hcl.Attribute, owner string) *RateLimit {
	if at == nil {
		return nil
	}
	name, ok := r.d.ref(at.Expr, "rate_limit", "per_ip")
	if !ok {
		return nil
	}
	rl, ok := r.g.RateLimitByName[name]
	if !ok {
		r.d.errorf(at.Expr.Range(), "Unknown rate limit",
			"%s refers to rate_limit %q, which is not defined. Add a rate_limit %q block or fix the name.", owner, name, name)
		return nil
	}
	return rl
}

// checkTraffic checks what needs the whole config: redis backends need a
// redis block.
func (d *decoder) checkTraffic(g *Gateway) {
	if g.CacheStore.MaxBytes == 0 {
		g.CacheStore.MaxBytes = DefaultCacheMaxBytes
	}
	if g.CacheStore.Backend == "" {
		g.CacheStore.Backend = "memory"
	}
	if g.KV.Backend == "" {
		g.KV.Backend = "memory"
	}
	if g.Redis != nil {
		return
	}

	for _, rl := range g.RateLimits {
		if rl.Backend == "redis" {
			d.errorf(rl.Range, "Missing redis block",
				"rate_limit %q uses backend = \"redis\" but no redis block is declared. Add redis { address = \"127.0.0.1:6379\" } or use backend = \"local\".", rl.Name)
		}
	}
	if g.KV.Backend == "redis" {
		d.errorf(g.KV.Range, "Missing redis block",
			"kv uses backend = \"redis\" but no redis block is declared. Add redis { address = \"127.0.0.1:6379\" } or use backend = \"memory\".")
	}
	if g.CacheStore.Backend == "redis" {
		d.errorf(g.CacheStore.Range, "Missing redis block",
			"cache_store uses backend = \"redis\" but no redis block is declared. Add redis { address = \"127.0.0.1:6379\" } or use backend = \"memory\".")
	}
}

// Split divides a route's traffic between upstreams by weight (canary releases).
type Split struct {
	Upstreams []*WeightedUpstream
	// Sticky, "header:NAME" or "cookie:NAME", sends requests carrying the
	// same value to the same upstream (while the weights do not change);
	// "" picks at random for each request.
	Sticky string
}

// WeightedUpstream is one upstream of a Split with its share.
type WeightedUpstream struct {
	Upstream *Upstream
	Weight   int // relative weight, 0 to 100000; 0 takes no traffic
}

// split decodes a route's upstreams = [{ upstream = upstream.NAME, weight = N }, ...]
// and sticky attributes.
func (r *resolver) split(at, sticky *hcl.Attribute, ptr, owner string) *Split {
	d := r.d
	if at == nil {
		if sticky != nil {
			d.errorf(sticky.NameRange, "Unused sticky", "%s sets sticky without upstreams; remove it or add upstreams = [...].", owner)
		}
		return nil
	}
	items, diags := hcl.ExprList(at.Expr)
	if diags.HasErrors() || len(items) == 0 {
		d.errorf(at.Expr.Range(), "Invalid upstreams",
			"%s: upstreams must be a list of objects such as [{ upstream = upstream.stable, weight = 90 }, { upstream = upstream.canary, weight = 10 }].", owner)
		return nil
	}
	s := &Split{}
	total := 0
	for i, item := range items {
		pairs, diags := hcl.ExprMap(item)
		if diags.HasErrors() {
			d.errorf(item.Range(), "Invalid upstreams", "%s: upstreams[%d] must be an object such as { upstream = upstream.canary, weight = 10 }.", owner, i)
			continue
		}
		wu := &WeightedUpstream{Weight: -1}
		for _, p := range pairs {
			name := hcl.ExprAsKeyword(p.Key)
			switch name {
			case "upstream":
				if n, ok := d.ref(p.Value, "upstream", "canary"); ok {
					if u, ok := r.g.UpstreamByName[n]; ok {
						wu.Upstream = u
					} else {
						d.errorf(p.Value.Range(), "Unknown upstream",
							"%s refers to upstream %q, which is not defined. Add an upstream %q block or fix the name.", owner, n, n)
					}
				}
			case "weight":
				v, diags := p.Value.Value(nil)
				n, ok := 0, false
				if !diags.HasErrors() && v.Type() == cty.Number && v.IsKnown() && !v.IsNull() {
					n, ok = wholeNumber(v)
				}
				if !ok || n < 0 || n > 100000 {
					d.errorf(p.Value.Range(), "Invalid weight", "%s: upstreams[%d].weight must be a whole number from 0 to 100000.", owner, i)
					wu.Weight = -2
					continue
				}
				wu.Weight = n
			default:
				d.errorf(p.Key.Range(), "Invalid upstreams", "%s: upstreams[%d] has %q; the fields are upstream and weight.", owner, i, name)
			}
		}
		if wu.Weight == -1 {
			d.errorf(item.Range(), "Invalid upstreams", "%s: upstreams[%d] needs a weight.", owner, i)
		}
		if wu.Upstream == nil || wu.Weight < 0 {
			continue
		}
		total += wu.Weight
		s.Upstreams = append(s.Upstreams, wu)
	}
	if len(s.Upstreams) != len(items) {
		return nil
	}
	if total == 0 {
		d.errorf(at.Expr.Range(), "Invalid upstreams", "%s: the upstream weights add up to 0; give at least one a positive weight.", owner)
		return nil
	}
	if sticky != nil {
		var v string
		if secret, ok := d.str(sticky, ptr+"/sticky", &v); ok {
			kind, name, _ := strings.Cut(v, ":")
			if (kind != "header" && kind != "cookie") || name == "" || (kind == "header" && !validHeaderName(name)) {
				d.errorf(sticky.Expr.Range(), "Invalid sticky", "%s is not a sticky key. Use \"header:NAME\" or \"cookie:NAME\".", show(v, secret))
			} else {
				if kind == "header" {
					v = "header:" + canonicalHeader(name)
				}
				s.Sticky = v
			}
		}
	}
	return s
}

// addTrafficDoc adds the traffic blocks to the RedactedJSON document, only
// those the config declares. Pointers match the decoder's secret pointers.
func (g *Gateway) addTrafficDoc(doc map[string]any) {
	if r := g.Redis; r != nil {
		doc["redis"] = map[string]any{"address": r.Address, "db": r.DB, "prefix": r.Prefix,
			"dial_timeout": dur(r.DialTimeout), "timeout": dur(r.Timeout)}
	}
	if len(g.RateLimits) > 0 {
		rls := make([]any, len(g.RateLimits))
		for i, rl := range g.RateLimits {
			key := string(rl.Key)
			if rl.Key == RateLimitKeyHeader {
				key = "header:" + rl.Header
			}
			rls[i] = map[string]any{"name": rl.Name, "rate": rl.Rate, "burst": rl.Burst, "key": key,
				"backend": rl.Backend, "on_backend_error": string(rl.OnBackendError)}
		}
		doc["rate_limits"] = rls
	}
	if g.RateLimit != nil {
		doc["rate_limit"] = g.RateLimit.Name
	}
	if len(g.UsagePlans) > 0 {
		ups := make([]any, len(g.UsagePlans))
		for i, up := range g.UsagePlans {
			routes := make([]any, len(up.Routes))
			for j, r := range up.Routes {
				routes[j] = r.Key
			}
			var q any
			if up.Quota != nil {
				q = map[string]any{"limit": up.Quota.Limit, "period": up.Quota.Period}
			}
			ups[i] = map[string]any{"name": up.Name, "rate": up.Rate, "burst": up.Burst, "quota": q,
				"routes": routes, "on_backend_error": string(up.OnBackendError)}
		}
		doc["usage_plans"] = ups
	}
	if g.CacheStore.Range.Filename != "" {
		doc["cache_store"] = map[string]any{"backend": g.CacheStore.Backend, "max_bytes": g.CacheStore.MaxBytes}
	}
	if g.KV.Range.Filename != "" {
		doc["kv"] = map[string]any{"backend": g.KV.Backend, "prefix": g.KV.Prefix}
	}
}

// addRouteTrafficDoc adds a route's traffic settings to its document.
func addRouteTrafficDoc(r *Route, doc map[string]any) {
	if r.RateLimit != nil {
		doc["rate_limit"] = r.RateLimit.Name
	}
	if c := r.Cache; c != nil {
		doc["cache"] = map[string]any{"ttl": dur(c.TTL), "query": stringsDoc(c.Query), "headers": stringsDoc(c.Headers),
			"allow_client_invalidation": c.AllowClientInvalidation}
	}
	if s := r.Split; s != nil {
		ups := make([]any, len(s.Upstreams))
		for i, wu := range s.Upstreams {
			ups[i] = map[string]any{"upstream": wu.Upstream.Name, "weight": wu.Weight}
		}
		doc["upstreams"] = ups
		doc["sticky"] = s.Sticky
	}
}
