package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

var upstream = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })

func newGateway(t testing.TB, cfg string) *wasmtest.Gateway {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin to wasm; skipped with -short")
	}
	src := wasmtest.Build(t, ".")
	return wasmtest.New(t, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, upstream,
		&config.Plugin{Name: "ip-restriction", Source: src, ConfigJSON: []byte(cfg), Timeout: 2 * time.Second, PoolSize: 2})
}

// TestThroughRealHost runs the wasm module in the real host and pipeline. The
// pipeline.Request.ClientIP is what the gateway computed from the peer address
// and its trusted_proxies; the spoofed X-Forwarded-For from an untrusted
// client reaches the plugin only as a header, which it ignores.
func TestThroughRealHost(t *testing.T) {
	g := newGateway(t, `{"allow":["10.0.0.0/8","2001:db8::/32"],"deny":["10.66.0.0/16"]}`)
	tests := []struct {
		name, clientIP, xff string
		expStatus           int
	}{
		{name: "allowed v4", clientIP: "10.1.2.3", expStatus: 204},
		{name: "allowed v6", clientIP: "2001:db8::7", expStatus: 204},
		{name: "v4-mapped", clientIP: "::ffff:10.1.2.3", expStatus: 204},
		{name: "denied inside allow", clientIP: "10.66.0.1", expStatus: 403},
		{name: "not allowed", clientIP: "203.0.113.9", expStatus: 403},
		{name: "spoofed forwarded-for from untrusted client", clientIP: "203.0.113.9", xff: "10.1.2.3", expStatus: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			w := g.Do(r, &pipeline.Request{ClientIP: tc.clientIP})
			assert.Equal(t, tc.expStatus, w.Code)
			if tc.expStatus == 403 {
				assert.JSONEq(t, `{"message":"Forbidden"}`, w.Body.String())
			}
		})
	}
}
