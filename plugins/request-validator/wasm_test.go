package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
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

// echo answers 200 with the request body and the path it received.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Path", r.URL.Path)
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	_, _ = w.Write(b)
})

func newGateway(t testing.TB, plugins ...*config.Plugin) *wasmtest.Gateway {
	t.Helper()
	return wasmtest.New(t, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, echo, plugins...)
}

func pluginCfg(t testing.TB, name, dir, cfg string) *config.Plugin {
	t.Helper()
	if testing.Short() {
		t.Skip("builds plugins to wasm; skipped with -short")
	}
	return &config.Plugin{Name: name, Source: wasmtest.Build(t, dir), ConfigJSON: []byte(cfg), Timeout: 2 * time.Second, PoolSize: 2}
}

// validatorCfg validates testdata/order.json with the schema passed as a
// string, as file() yields it.
func validatorCfg(t testing.TB) string {
	t.Helper()
	schema, err := os.ReadFile("testdata/order.json")
	require.NoError(t, err)
	s, err := json.Marshal(string(schema))
	require.NoError(t, err)
	return `{"report_errors":true,"content_types":["application/json"],"path_params":{"id":"^[0-9]+$"},"schema":` + string(s) + `}`
}

const transformCfg = `{"request":{"path":"/v2/orders/{id}","body":{"sku":"$.body.item","qty":"$.body.quantity | string","order":"$path.id | int","rid":"$context.requestId"}}}`

// TestThroughRealHost runs request-validator then transform in wazero.
func TestThroughRealHost(t *testing.T) {
	g := newGateway(t,
		pluginCfg(t, "validate", ".", validatorCfg(t)),
		pluginCfg(t, "transform", "../transform", transformCfg),
	)
	tests := []struct {
		name, ct, body string
		expStatus      int
		expBody        string
	}{
		{name: "valid is transformed", ct: "application/json", body: `{"item":"book","quantity":3}`, expStatus: 200,
			expBody: `{"sku":"book","qty":"3","order":7,"rid":"rid-1"}`},
		{name: "unicode", ct: "application/json", body: `{"item":"本 📚","quantity":1}`, expStatus: 200,
			expBody: `{"sku":"本 📚","qty":"1","order":7,"rid":"rid-1"}`},
		{name: "invalid", ct: "application/json", body: `{"item":"book","quantity":0}`, expStatus: 400,
			expBody: `{"message":"Invalid request body","errors":[{"pointer":"/quantity","reason":"minimum: got 0, want 1"}]}`},
		{name: "malformed", ct: "application/json", body: `{"item":`, expStatus: 400},
		{name: "empty", ct: "application/json", body: ``, expStatus: 400},
		{name: "deep nesting", ct: "application/json", body: strings.Repeat("[", 500) + strings.Repeat("]", 500), expStatus: 400},
		{name: "big number", ct: "application/json", body: `{"item":"a","quantity":100000000000000000000000}`, expStatus: 400},
		{name: "wrong type", ct: "text/plain", body: `{}`, expStatus: 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/orders/7", bytes.NewReader([]byte(tc.body)))
			r.Header.Set("Content-Type", tc.ct)
			w := g.Do(r, &pipeline.Request{RouteKey: "POST /orders/{id}", Params: []pipeline.Param{{Name: "id", Value: "7"}}, RequestID: "rid-1"})
			assert.Equal(t, tc.expStatus, w.Code, w.Body.String())
			if tc.expBody != "" {
				assert.JSONEq(t, tc.expBody, w.Body.String())
			}
			if tc.expStatus == 200 {
				assert.Equal(t, "/v2/orders/7", w.Header().Get("X-Path"))
			} else {
				assert.Empty(t, w.Header().Get("X-Path"), "upstream not called")
			}
		})
	}
	t.Run("bad path param", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/orders/x", strings.NewReader(`{"item":"a","quantity":1}`))
		r.Header.Set("Content-Type", "application/json")
		w := g.Do(r, &pipeline.Request{Params: []pipeline.Param{{Name: "id", Value: "x"}}})
		assert.Equal(t, 400, w.Code)
		assert.Contains(t, w.Body.String(), "Invalid request parameters")
	})
}

// TestSchemaErrorRejectsConfig: a broken schema fails plugin load, which the
// gateway reports as a config diagnostic at the plugin block.
func TestSchemaErrorRejectsConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins to wasm; skipped with -short")
	}
	h, err := wasm.New(t.Context(), wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer h.Close(t.Context())
	_, err = h.Load(t.Context(), &config.Plugin{Name: "v", Source: wasmtest.Build(t, "."), ConfigJSON: []byte(`{"schema":{"type":"strin"}}`), Timeout: 2 * time.Second, PoolSize: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "compile schema")
}
