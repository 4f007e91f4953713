package conformance_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// BenchmarkLoad measures loading the conformance plugin of each language:
// cold = compile + instantiate + on_configure with no compilation cache;
// warm = the same with the module already in the cache (instantiate +
// _initialize + on_configure).
func BenchmarkLoad(b *testing.B) {
	for _, v := range variants() {
		b.Run(v.name, func(b *testing.B) {
			module := buildForBench(b, v)
			st, err := os.Stat(module)
			require.NoError(b, err)
			b.Logf("%s module size %d bytes", v.name, st.Size())
			cacheDir := b.TempDir()
			for _, mode := range []string{"cold", "warm"} {
				b.Run(mode, func(b *testing.B) {
					dir := "off"
					if mode == "warm" {
						dir = cacheDir
						loadOnce(b, dir, module) // fill the cache
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						loadOnce(b, dir, module)
					}
				})
			}
		})
	}
}

func loadOnce(b *testing.B, cacheDir, module string) {
	h, err := wasm.New(b.Context(), wasm.Options{CacheDir: cacheDir, KV: kv.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(b, err)
	_, err = h.Load(b.Context(), &config.Plugin{Name: "bench", Source: module, ConfigJSON: []byte(pluginConfig), Timeout: 10 * time.Second, PoolSize: 1})
	require.NoError(b, err)
	require.NoError(b, h.Close(b.Context()))
}

// BenchmarkRequest measures one request with a body through the
// conformance plugin of each language (request headers, request body and
// response headers phases, metric and log) against an empty handler. No KV
// store is configured (kv_* return "unavailable"), so the "visits" value does
// not grow with b.N.
func BenchmarkRequest(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})
	for _, v := range variants() {
		b.Run(v.name, func(b *testing.B) {
			module := buildForBench(b, v)
			g := wasmtest.New(b, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, next,
				&config.Plugin{Name: "bench-" + v.name, Source: module, ConfigJSON: []byte(pluginConfig), Timeout: 10 * time.Second})
			info := &pipeline.Request{ClientIP: "192.0.2.1", RequestID: "bench"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest("POST", "/old", strings.NewReader("abc"))
				if w := g.Do(r, info); w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// buildForBench builds v (cached) or skips the benchmark.
func buildForBench(b *testing.B, v variant) string {
	b.Helper()
	root, err := toolchainRoot()
	require.NoError(b, err)
	tc, opts, err := findVariant(v, root)
	if err != nil {
		b.Skipf("%s: %v", v.name, err)
	}
	cache, err := wasmtest.CacheDir()
	require.NoError(b, err)
	src, err := filepath.Abs(v.src)
	require.NoError(b, err)
	out, err := tc.BuildCached(b.Context(), src, filepath.Join(cache, "conformance"), opts)
	require.NoError(b, err)
	return out
}
