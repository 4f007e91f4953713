package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// newFunctionGateway builds a gateway with a WAT function route (/fn), the
// Go SDK hello example (/fn-go, packed events) and a mock route.
func newFunctionGateway(tb testing.TB) *Gateway {
	tb.Helper()
	src := `
function "hello" {
  source = "` + wasmtest.BuildWAT(tb, filepath.Join("testdata", "fn_hello.wat")) + `"
}
function "hello_go" {
  source = "` + wasmtest.Build(tb, filepath.Join("..", "..", "examples", "functions", "hello")) + `"
}
route "GET /fn" {
  function = function.hello
}
route "GET /fn-go" {
  function = function.hello_go
}
route "GET /mock" {
  mock { body = "hello" }
}
`
	cfg, diags := config.LoadBytes("bench.hcl", []byte(src))
	require.False(tb, diags.HasErrors(), config.FormatDiagnostics(diags))
	d, err := wasmtest.CacheDir()
	require.NoError(tb, err)
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := New(context.Background(), cfg, Options{Logger: discard, AccessLog: discard, WasmCacheDir: filepath.Join(d, "wazero")})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	return g
}

func TestServeFunctionRoute(t *testing.T) {
	g := newFunctionGateway(t)
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/fn", nil))
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "hello", w.Body.String())
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	require.Equal(t, "5", w.Header().Get("Content-Length"))
}

// BenchmarkServeFunction is a whole request to a function route (event
// encoding, invocation, response mapping) beside the same gateway's mock
// route; the difference is the function integration's cost on the host
// (fn, a WAT function) and with a Go SDK guest (fn-go).
func BenchmarkServeFunction(b *testing.B) {
	g := newFunctionGateway(b)
	for _, path := range []string{"/mock", "/fn", "/fn-go"} {
		b.Run(path[1:], func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("User-Agent", "bench")
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					g.ServeHTTP(w, req)
					if w.code != http.StatusOK {
						b.Fatalf("status %d", w.code)
					}
				}
			})
		})
	}
}
