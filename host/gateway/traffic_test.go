package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/internal/redistest"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/pipeline"
)

// newTestGateway builds a gateway (no listeners) from HCL source.
func newTestGateway(tb testing.TB, src string) *Gateway {
	tb.Helper()
	cfg, diags := config.LoadBytes("test.hcl", []byte(src))
	require.False(tb, diags.HasErrors(), config.FormatDiagnostics(diags))
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := New(context.Background(), cfg, Options{Logger: discard})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	return g
}

func TestBucketKey(t *testing.T) {
	g := newTestGateway(t, `
rate_limit "r" { rate = 1 }
rate_limit "a" {
  rate = 1
  key  = "api"
}
rate_limit "ip" {
  rate = 1
  key  = "ip"
}
rate_limit "h" {
  rate = 1
  key  = "header:X-Tenant"
}
rate_limit "c" {
  rate = 1
  key  = "consumer"
}
gateway { rate_limit = rate_limit.r }
api "shop" {
  base_path = "/v1"
  route "GET /items" {
    mock {}
  }
}
route "GET /top" {
  mock {}
}
`)
	gen := g.current()
	defer gen.release()
	routes := map[string]*route{}
	for _, p := range []string{"/v1/items", "/top"} {
		var params = new(reqState).params
		v, _ := gen.router.Match(http.MethodGet, "", p, &params)
		routes[p] = v.(*route)
	}
	lim := func(name string, global bool) *limit {
		l := *gen.traffic.limits[name]
		l.global = global
		return &l
	}
	tests := []struct {
		name   string
		path   string
		limit  *limit
		header http.Header
		props  map[string]string
		exp    string
	}{
		{name: "route", path: "/v1/items", limit: lim("r", false), exp: "r|r:GET /v1/items"},
		{name: "route key at gateway level is one bucket", path: "/v1/items", limit: lim("r", true), exp: "r|all"},
		{name: "api", path: "/v1/items", limit: lim("a", false), exp: "a|api:shop"},
		{name: "api key on a top-level route counts the route", path: "/top", limit: lim("a", false), exp: "a|r:GET /top"},
		{name: "ip", path: "/top", limit: lim("ip", false), exp: "ip|ip:192.0.2.1"},
		{name: "header", path: "/top", limit: lim("h", false), header: http.Header{"X-Tenant": {"acme"}}, exp: "h|h:acme"},
		{name: "missing header counts the client", path: "/top", limit: lim("h", false), exp: "h|ip:192.0.2.1"},
		{name: "consumer by key id", path: "/top", limit: lim("c", false),
			props: map[string]string{PropertyKeyID: "abcd1234", PropertyPrincipal: "alice"}, exp: "c|c:abcd1234"},
		{name: "consumer by principal", path: "/top", limit: lim("c", false), props: map[string]string{PropertyPrincipal: "alice"}, exp: "c|c:alice"},
		{name: "anonymous consumer counts the client", path: "/top", limit: lim("c", false), exp: "c|ip:192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &reqState{rt: routes[tc.path], clientIP: "192.0.2.1", info: pipeline.Request{Properties: tc.props}}
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			for k, v := range tc.header {
				r.Header[k] = v
			}
			assert.Equal(t, tc.exp, st.bucket(tc.limit, r))
		})
	}
}

func TestRouteLimitsOrderAndDedup(t *testing.T) {
	g := newTestGateway(t, `
rate_limit "acct" { rate = 100 }
rate_limit "api"  { rate = 10 }
rate_limit "rt"   { rate = 1 }
gateway { rate_limit = rate_limit.acct }
api "shop" {
  rate_limit = rate_limit.api
  route "GET /a" {
    rate_limit = rate_limit.rt
    mock {}
  }
  route "GET /b" {
    rate_limit = rate_limit.api
    mock {}
  }
}
`)
	gen := g.current()
	defer gen.release()
	names := func(rc *config.Route) []string {
		var out []string
		for _, l := range gen.traffic.routeLimits(gen.cfg, rc) {
			out = append(out, l.cfg.Name)
		}
		return out
	}
	assert.Equal(t, []string{"acct", "api", "rt"}, names(gen.cfg.Routes[0]), "gateway, then API, then route")
	assert.Equal(t, []string{"acct", "api"}, names(gen.cfg.Routes[1]), "a limit named twice applies once")
}

func TestLocalLimitThroughHandler(t *testing.T) {
	g := newTestGateway(t, `
rate_limit "two" {
  rate  = 0.001
  burst = 2
}
route "GET /x" {
  rate_limit = rate_limit.two
  mock { body = "{}" }
}
`)
	codes := []int{}
	var last *httptest.ResponseRecorder
	for range 3 {
		last = httptest.NewRecorder()
		g.ServeHTTP(last, httptest.NewRequest(http.MethodGet, "/x", nil))
		codes = append(codes, last.Code)
	}
	assert.Equal(t, []int{200, 200, 429}, codes)
	assert.JSONEq(t, `{"message":"Too Many Requests","requestId":"`+last.Header().Get("X-Request-Id")+`"}`, last.Body.String())
	assert.Equal(t, "2", last.Header().Get("RateLimit-Limit"))
	assert.Equal(t, "2;w=2000", last.Header().Get("RateLimit-Policy"))
}

func TestPluginKVOnRedis(t *testing.T) {
	addr, _ := redistest.Start(t)
	g := newTestGateway(t, `
redis { address = "`+addr+`" }
kv { backend = "redis" }
route "GET /x" {
  mock {}
}
`)
	gen := g.current()
	defer gen.release()
	store := gen.traffic.pluginKV(g.kv)
	require.IsType(t, &kv.Redis{}, store)
	require.NoError(t, store.Set(t.Context(), "k", []byte("v"), 0))

	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	assert.Equal(t, "v", c.Get(t.Context(), "kv:k").Val(), "plugins on every instance share the Redis key space")

	mem := newTestGateway(t, "route \"GET /x\" {\n  mock {}\n}\n")
	mg := mem.current()
	defer mg.release()
	assert.Same(t, mem.kv, mg.traffic.pluginKV(mem.kv), "without a kv block plugins use the in-process store")
}
