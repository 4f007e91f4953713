package config

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadTraffic(t *testing.T) {
	g, diags := Load("testdata/traffic/valid.hcl")
	require.False(t, diags.HasErrors(), FormatDiagnostics(diags))

	require.NotNil(t, g.Redis)
	assert.Equal(t, "127.0.0.1:6379", g.Redis.Address)
	assert.Equal(t, 100*time.Millisecond, g.Redis.Timeout)
	assert.Equal(t, DefaultRedisDialTimeout, g.Redis.DialTimeout)

	require.Len(t, g.RateLimits, 3)
	acct := g.RateLimitByName["account"]
	assert.Equal(t, &RateLimit{Name: "account", Rate: 1000, Burst: 2000, Key: RateLimitKeyAPI, Backend: "redis",
		OnBackendError: OnErrorAllow, Range: acct.Range}, acct)
	ip := g.RateLimitByName["per_ip"]
	assert.Equal(t, 3, ip.Burst, "burst defaults to ceil(rate)")
	assert.Equal(t, RateLimitKeyIP, ip.Key)
	assert.Equal(t, OnErrorDeny, ip.OnBackendError)
	assert.Equal(t, "local", ip.Backend)
	tenant := g.RateLimitByName["per_tenant"]
	assert.Equal(t, RateLimitKeyHeader, tenant.Key)
	assert.Equal(t, "X-Tenant-Id", tenant.Header)

	assert.Same(t, acct, g.RateLimit)
	require.Len(t, g.APIs, 1)
	assert.Same(t, tenant, g.APIs[0].RateLimit)
	require.Len(t, g.Routes, 2)
	rt := g.Routes[0]
	assert.Same(t, ip, rt.RateLimit)
	assert.Equal(t, &RouteCache{TTL: 30 * time.Second, Query: []string{"page"}, Headers: []string{"Accept"}, AllowClientInvalidation: true}, rt.Cache)
	assert.Equal(t, "memory", g.CacheStore.Backend)
	assert.Equal(t, int64(1<<20), g.CacheStore.MaxBytes)

	require.Len(t, g.UsagePlans, 2)
	gold := g.UsagePlanByName["gold"]
	assert.Equal(t, 50.0, gold.Rate)
	assert.Equal(t, 100, gold.Burst)
	assert.Equal(t, &Quota{Limit: 10000, Period: "month"}, gold.Quota)
	assert.Equal(t, []*Route{rt}, gold.Routes)
	assert.Equal(t, OnErrorAllow, gold.OnBackendError)
	free := g.UsagePlanByName["free"]
	assert.Zero(t, free.Rate, "no throttle")
	assert.Zero(t, free.Burst)
	assert.Empty(t, free.Routes, "every route")
	assert.Equal(t, &Quota{Limit: 100, Period: "day"}, free.Quota)

	split := g.Routes[1]
	require.NotNil(t, split.Split)
	assert.Equal(t, &Split{Sticky: "header:X-User", Upstreams: []*WeightedUpstream{
		{Upstream: g.UpstreamByName["stable"], Weight: 90},
		{Upstream: g.UpstreamByName["canary"], Weight: 10},
	}}, split.Split)
	assert.Same(t, g.UpstreamByName["stable"], split.Upstream, "Upstream is the split's first")
	assert.Equal(t, "redis", g.KV.Backend)
}

func TestLoadTrafficErrors(t *testing.T) {
	_, diags := Load("testdata/traffic/invalid.hcl")
	require.True(t, diags.HasErrors())
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+": "+d.Detail)
	}
	assert.ElementsMatch(t, []string{
		`Invalid rate: rate_limit "a" has rate 0; write a positive number of requests per second, such as 100 or 0.5.`,
		`Invalid key: "cookie:x" is not a rate limit key. Use "route", "api", "consumer", "ip" or "header:NAME".`,
		`Invalid backend: "memcached" is not a valid backend. Use one of "local" or "redis".`,
		`Unknown rate limit: route "GET /x" refers to rate_limit "nope", which is not defined. Add a rate_limit "nope" block or fix the name.`,
		`Invalid ttl: The cache ttl must be positive, such as "30s".`,
		`Invalid period: "year" is not a valid period. Use one of "day", "week" or "month".`,
		`Unknown route: usage_plan "p" lists route "GET /nope", which is not defined. Use a route key as written, with the API base path, such as "GET /v1/items".`,
		`Invalid weight: route "GET /s1": upstreams[0].weight must be a whole number from 0 to 100000.`,
		`Unknown upstream: route "GET /s1" refers to upstream "missing", which is not defined. Add an upstream "missing" block or fix the name.`,
		`Invalid upstreams: route "GET /s2": the upstream weights add up to 0; give at least one a positive weight.`,
		`Conflicting integration: route "GET /s3" sets upstreams and also upstream or a mock block; a route has exactly one integration, so remove one.`,
		`Missing redis block: kv uses backend = "redis" but no redis block is declared. Add redis { address = "127.0.0.1:6379" } or use backend = "memory".`,
		`Missing redis block: rate_limit "b" uses backend = "redis" but no redis block is declared. Add redis { address = "127.0.0.1:6379" } or use backend = "local".`,
	}, got)
}

func TestTrafficRedactedJSON(t *testing.T) {
	t.Setenv("TEST_REDIS_ADDR", "10.0.0.7:6379")
	src := `
redis { address = env("TEST_REDIS_ADDR") }
rate_limit "h" {
  rate = 1
  key  = "header:x-tenant"
}
route "GET /x" {
  rate_limit = rate_limit.h
  mock {}
}
`
	g, diags := LoadBytes("t.hcl", []byte(src))
	require.False(t, diags.HasErrors(), FormatDiagnostics(diags))
	b, err := g.RedactedJSON()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, Redacted, doc["redis"].(map[string]any)["address"], "an env() address is a secret")
	assert.Equal(t, "header:X-Tenant", doc["rate_limits"].([]any)[0].(map[string]any)["key"])
	assert.Equal(t, "h", doc["routes"].([]any)[0].(map[string]any)["rate_limit"])
	assert.NotContains(t, doc, "usage_plans", "undeclared blocks are left out")
}
