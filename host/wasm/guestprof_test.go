//go:build guestprof

package wasm_test

import (
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuestProfile: under -tags guestprof, closing the host prints the guest
// profile, naming the Go SDK's functions and the plugin's allocations.
func TestGuestProfile(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stderr := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = stderr }()

	e := newEnv(t)
	p := e.load(pluginCfg("kitchen", goPlugin(t, "kitchen")))
	for range 10 {
		rec := httptest.NewRecorder()
		chain(p).Handle(rec, request("GET", "/", "", ""), info(), echo)
		require.Equal(t, 200, rec.Code)
	}
	require.NoError(t, e.host.Close(t.Context()))
	os.Stderr = stderr
	require.NoError(t, w.Close())
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, "guest profile: ")
	assert.Contains(t, s, "by self time:")
	assert.Contains(t, s, "github.com_wasmgate_gateway_sdk_go_plugin.onRequestHeaders", "functions are named")
	assert.Contains(t, s, "allocations (runtime.mallocgc) by first caller")
	assert.True(t, strings.Contains(s, "main.onRequestHeaders"), "the plugin's own functions appear")
}
