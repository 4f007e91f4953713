package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmgate/gateway/host/internal/redistest"
)

// benchServe runs parallel GETs of path through g and fails on any status but 200.
func benchServe(b *testing.B, g *Gateway, path string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			g.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

const benchTrafficConfig = `
rate_limit "local" {
  rate  = 1000000000
  burst = 1000000000
}
upstream "be" {
  targets = ["${BE}"]
}
route "GET /plain" {
  upstream = upstream.be
}
route "GET /limited" {
  upstream   = upstream.be
  rate_limit = rate_limit.local
}
route "GET /cached" {
  upstream = upstream.be
  cache {
    ttl = "1h"
  }
}
route "GET /mock" {
  mock { body = "{}" }
}
route "GET /mock-limited" {
  rate_limit = rate_limit.local
  mock { body = "{}" }
}
`

func newTrafficBenchGateway(b *testing.B, extra string) *Gateway {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42","name":"bench"}`)
	}))
	b.Cleanup(be.Close)
	return newTestGateway(b, extra+strings.ReplaceAll(benchTrafficConfig, "${BE}", be.URL))
}

// BenchmarkTraffic compares, in one process, a proxied route without
// traffic features, the same behind a local rate limit, served from the
// response cache, and mock routes with and without a local limit.
func BenchmarkTraffic(b *testing.B) {
	g := newTrafficBenchGateway(b, "")
	for _, path := range []string{"/plain", "/limited", "/cached", "/mock", "/mock-limited"} {
		b.Run(path[1:], func(b *testing.B) { benchServe(b, g, path) })
	}
}

// BenchmarkTrafficRedisLimited is a proxied route behind a Redis rate limit
// (one EVALSHA per request on a loopback redis-server).
func BenchmarkTrafficRedisLimited(b *testing.B) {
	addr, _ := redistest.Start(b)
	g := newTrafficBenchGateway(b, `
redis { address = "`+addr+`" }
rate_limit "shared" {
  rate    = 1000000000
  burst   = 1000000000
  backend = "redis"
}
route "GET /redis" {
  upstream   = upstream.be
  rate_limit = rate_limit.shared
}
`)
	benchServe(b, g, "/redis")
}
