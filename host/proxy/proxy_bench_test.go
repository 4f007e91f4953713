package proxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/wasmgate/gateway/host/config"
)

// discardWriter is a ResponseWriter that keeps nothing but its header map.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) Flush()                      {}

const benchBody = `{"id":42,"name":"gateway","tags":["a","b","c"],"ok":true}`

func benchBackend(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchBody)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

func benchRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://gw.example.com/users/42?x=1", nil)
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("X-Request-Id", "bench-id")
	return r
}

// BenchmarkForward sends a small GET through Forward to a backend over
// loopback.
func BenchmarkForward(b *testing.B) {
	pool := newPool(b, func(u *config.Upstream) { u.MaxIdleConnsPerHost = 64 }, benchBackend(b))
	f := New(Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := benchRequest()
		w := &discardWriter{h: make(http.Header)}
		ex := &Exchange{}
		for pb.Next() {
			clear(w.h)
			*ex = Exchange{Upstream: pool, Path: "/users/42", RawQuery: "x=1", ClientIP: "192.0.2.1",
				RequestID: "bench-id", RequestIDHeader: "X-Request-Id", Scheme: "http"}
			f.Forward(w, r, ex)
			if ex.Status != http.StatusOK {
				b.Fatalf("status %d: %v", ex.Status, ex.Err)
			}
		}
	})
}

// BenchmarkReverseProxyBaseline is BenchmarkForward with httputil.ReverseProxy
// over the same pool transport, for comparison.
func BenchmarkReverseProxyBaseline(b *testing.B) {
	target := benchBackend(b)
	pool := newPool(b, func(u *config.Upstream) { u.MaxIdleConnsPerHost = 64 }, target)
	tu := mustParse(b, target)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(tu)
			pr.SetXForwarded()
		},
		Transport: pool.Transport(),
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := benchRequest()
		w := &discardWriter{h: make(http.Header)}
		for pb.Next() {
			clear(w.h)
			w.status = 0
			rp.ServeHTTP(w, r)
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
	})
}

// BenchmarkCompress compresses JSON responses through Compressor.Wrap.
func BenchmarkCompress(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		body := jsonOfSize(size)
		for _, algo := range []string{AlgorithmGzip, AlgorithmZstd} {
			b.Run(fmt.Sprintf("%s/%dKiB", algo, size>>10), func(b *testing.B) {
				cfg := testCompression()
				cfg.Level = "default"
				c, err := NewCompressor(cfg)
				if err != nil {
					b.Fatal(err)
				}
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Accept-Encoding", algo)
				w := &discardWriter{h: make(http.Header)}
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					clear(w.h)
					w.h["Content-Type"] = []string{"application/json"}
					cw, finish := c.Wrap(w, r)
					_, _ = cw.Write(body)
					finish()
				}
				if w.h.Get("Content-Encoding") != algo {
					b.Fatalf("not compressed with %s: %v", algo, w.h)
				}
			})
		}
	}
}

func mustParse(b *testing.B, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	return u
}

// jsonOfSize is a JSON array of about n bytes.
func jsonOfSize(n int) []byte {
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; sb.Len() < n-64; i++ {
		fmt.Fprintf(&sb, `{"id":%d,"name":"user-%d","active":%t},`, i, i*7919%1000, i%3 == 0)
	}
	sb.WriteString("{}]")
	return []byte(sb.String())
}
