package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

func TestThroughRealHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin to wasm")
	}
	var logs strings.Builder
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got-Consumer", strings.Join(r.Header.Values("X-Consumer"), ","))
		w.Header().Set("X-Got-Plan", r.Header.Get("X-Plan"))
		w.Header().Set("X-Got-Key", r.Header.Get("X-Api-Key"))
		w.WriteHeader(200)
	})
	g := wasmtest.New(t, wasm.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, next, &config.Plugin{
		Name: "apikey", Source: wasmtest.Build(t, "."), ConfigJSON: []byte(cfg(t, map[string]any{"hide_credentials": true})),
		Timeout: 5 * time.Second, PoolSize: 1, MemoryBytes: 64 << 20, OnError: config.OnErrorDeny,
	})
	tests := []struct {
		name, key string
		exp       int
	}{
		{"acme", acmeKey, 200},
		{"wrong key", "ak_live_nope", 401},
		{"missing", "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/orders", nil)
			if tc.key != "" {
				r.Header.Set("X-Api-Key", tc.key)
			}
			r.Header.Set("X-Consumer", "forged")
			in := &pipeline.Request{}
			w := g.Do(r, in)
			require.Equal(t, tc.exp, w.Code)
			if tc.exp == 401 {
				assert.JSONEq(t, `{"message":"Unauthorized"}`, w.Body.String())
				return
			}
			assert.Equal(t, "acme", w.Header().Get("X-Got-Consumer"))
			assert.Equal(t, "gold", w.Header().Get("X-Got-Plan"))
			assert.Empty(t, w.Header().Get("X-Got-Key"), "hide_credentials")
			assert.Equal(t, hash(acmeKey)[:8], in.Properties["auth.key_id"])
		})
	}
	assert.NotContains(t, logs.String(), "ak_live", "keys are never logged")
	assert.Contains(t, logs.String(), "unknown API key")
}
