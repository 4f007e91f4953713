package plugin_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
	"github.com/wasmgate/gateway/sdk/toolchain"
)

// TestPlugin builds the plugin with its toolchain (skipped with the install
// command when missing) and runs one request through the real host.
func TestPlugin(t *testing.T) {
	root, err := toolchain.Root(".")
	require.NoError(t, err)
	opts := toolchain.Options{Root: root}
	tc, err := toolchain.Find("wat", opts)
	if err != nil {
		t.Skipf("hello: %v", err)
	}
	cache, err := wasmtest.CacheDir()
	require.NoError(t, err)
	src, err := filepath.Abs("plugin.wat")
	require.NoError(t, err)
	module, err := tc.BuildCached(t.Context(), src, filepath.Join(cache, "plugins"), opts)
	require.NoError(t, err)

	var seen http.Header
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.WriteHeader(http.StatusOK)
	})
	g := wasmtest.New(t, wasm.Options{}, next, &config.Plugin{
		Name: "hello", Source: module, ConfigJSON: []byte(`"hello"`), Timeout: 10 * time.Second,
	})
	w := g.Do(httptest.NewRequest("GET", "/", nil), &pipeline.Request{RequestID: "test-1"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, `"hello"`, seen.Get("X-Hello"), "the whole config JSON")
	assert.Equal(t, "hello", w.Header().Get("X-Plugin"))
}
