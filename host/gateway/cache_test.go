package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/internal/redistest"
	"github.com/wasmgate/gateway/host/proxy"
)

// cachedBackend counts requests and answers "n=<count>".
func cachedBackend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := n.Add(1)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "n="+strconv.FormatInt(v, 10))
		}
	}))
	t.Cleanup(be.Close)
	return be, &n
}

func serve(g *Gateway, method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

const cacheRouteConfig = `
upstream "be" {
  targets = ["${BE}"]
}
route "ANY /c" {
  upstream = upstream.be
  cache {
    ttl = "1m"
  }
}
`

func TestCacheHeadUsesGetEntry(t *testing.T) {
	be, n := cachedBackend(t)
	g := newTestGateway(t, strings.ReplaceAll(cacheRouteConfig, "${BE}", be.URL))

	w := serve(g, http.MethodHead, "/c")
	assert.Equal(t, "Miss", w.Header().Get("X-Cache"))
	w = serve(g, http.MethodGet, "/c")
	assert.Equal(t, "Miss", w.Header().Get("X-Cache"), "a HEAD response is never stored")
	assert.Equal(t, "n=2", w.Body.String())
	w = serve(g, http.MethodHead, "/c")
	assert.Equal(t, "Hit", w.Header().Get("X-Cache"))
	assert.Equal(t, "3", w.Header().Get("Content-Length"), "HEAD hit reports the GET body's length")
	assert.Empty(t, w.Body.String())
	w = serve(g, http.MethodPost, "/c")
	assert.Empty(t, w.Header().Get("X-Cache"), "other methods bypass the cache")
	assert.Equal(t, int64(3), n.Load())
}

func TestCacheSharedThroughRedis(t *testing.T) {
	addr, _ := redistest.Start(t)
	be, n := cachedBackend(t)
	src := `
redis { address = "` + addr + `" }
cache_store { backend = "redis" }
` + strings.ReplaceAll(cacheRouteConfig, "${BE}", be.URL)
	g1, g2 := newTestGateway(t, src), newTestGateway(t, src)

	w := serve(g1, http.MethodGet, "/c")
	require.Equal(t, "Miss", w.Header().Get("X-Cache"))
	w = serve(g2, http.MethodGet, "/c")
	assert.Equal(t, "Hit", w.Header().Get("X-Cache"), "the other instance reads the shared entry")
	assert.Equal(t, "n=1", w.Body.String())
	assert.Equal(t, int64(1), n.Load())
}

func TestSplitStickyCookie(t *testing.T) {
	stable, _ := cachedBackend(t)
	canary, _ := cachedBackend(t)
	g := newTestGateway(t, `
upstream "stable" {
  targets = ["`+stable.URL+`"]
}
upstream "canary" {
  targets = ["`+canary.URL+`"]
}
route "GET /s" {
  upstreams = [
    { upstream = upstream.stable, weight = 1 },
    { upstream = upstream.canary, weight = 1 },
  ]
  sticky = "cookie:session"
}
`)
	gen := g.current()
	defer gen.release()
	var params = new(reqState).params
	v, _ := gen.router.Match(http.MethodGet, "", "/s", &params)
	sp := v.(*route).split
	require.NotNil(t, sp)
	picked := map[string]int{}
	for i := range 40 {
		r := httptest.NewRequest(http.MethodGet, "/s", nil)
		r.AddCookie(&http.Cookie{Name: "session", Value: "s" + strconv.Itoa(i)})
		var first string
		for range 3 {
			var ex proxy.Exchange
			sp.pick(r, &ex)
			name := "canary"
			if ex.Upstream == gen.pools["stable"] {
				name = "stable"
			}
			if first == "" {
				first = name
			}
			require.Equal(t, first, name, "session %d moved", i)
		}
		picked[first]++
	}
	assert.Positive(t, picked["stable"], "%v", picked)
	assert.Positive(t, picked["canary"], "%v", picked)
}
