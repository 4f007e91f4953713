package wasmtest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

func TestExamplesThroughRealHost(t *testing.T) {
	addHeader := wasmtest.Build(t, "../../../examples/plugins/add-header")
	geoTag := wasmtest.Build(t, "../../../examples/plugins/geo-tag")

	st1, err := os.Stat(addHeader)
	require.NoError(t, err)
	again := wasmtest.Build(t, "../../../examples/plugins/add-header")
	st2, err := os.Stat(again)
	require.NoError(t, err)
	assert.Equal(t, addHeader, again, "same sources, same cached module")
	assert.Equal(t, st1.ModTime(), st2.ModTime(), "not rebuilt")

	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Up-Gateway", r.Header.Get("X-Gateway"))
		w.Header().Set("X-Up-Country", r.Header.Get("X-Country"))
		w.WriteHeader(200)
	})
	g := wasmtest.New(t, wasm.Options{}, next,
		&config.Plugin{Name: "geo-tag", Source: geoTag, ConfigJSON: []byte(`{"networks":{"192.0.2.0/24":"GB","10.0.0.0/8":"XX"},"deny":["XX"]}`), Timeout: 2e9},
		&config.Plugin{Name: "add-header", Source: addHeader, ConfigJSON: []byte(`{"request":{"X-Gateway":"wasmgate"},"response":{"X-Frame-Options":"DENY"}}`), Timeout: 2e9},
	)

	in := &pipeline.Request{ClientIP: "192.0.2.7", RequestID: "r1"}
	w := g.Do(httptest.NewRequest("GET", "/", nil), in)
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "wasmgate", w.Header().Get("X-Up-Gateway"))
	assert.Equal(t, "GB", w.Header().Get("X-Up-Country"))
	assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
	assert.Equal(t, "GB", in.Properties["geo.country"])

	w = g.Do(httptest.NewRequest("GET", "/", nil), &pipeline.Request{ClientIP: "10.9.9.9"})
	assert.Equal(t, 403, w.Code)
	assert.JSONEq(t, `{"message":"Forbidden"}`, w.Body.String())
	assert.Empty(t, w.Header().Get("X-Frame-Options"), "geo-tag responded first, so add-header (later in the chain) did not run")
}
