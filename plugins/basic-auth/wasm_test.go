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

// upstream echoes what the plugin forwarded.
var upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Saw-User", r.Header.Get("X-Consumer-Username"))
	w.WriteHeader(200)
})

func newGateway(t testing.TB, dir, cfg string) *wasmtest.Gateway {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin to wasm; skipped with -short")
	}
	return wasmtest.New(t, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, upstream,
		&config.Plugin{Name: "basic-auth", Source: wasmtest.Build(t, dir), ConfigJSON: []byte(cfg), Timeout: 10 * time.Second, PoolSize: 2, MemoryBytes: 64 << 20})
}

func TestThroughRealHost(t *testing.T) {
	g := newGateway(t, ".", configJSON(t, nil))
	tests := []struct {
		name, auth string
		expStatus  int
		expUser    string
	}{
		{name: "bcrypt", auth: basic("alice", "correct horse"), expStatus: 200, expUser: "alice"},
		{name: "bcrypt cached", auth: basic("alice", "correct horse"), expStatus: 200, expUser: "alice"},
		{name: "argon2id", auth: basic("bob", "battery:staple"), expStatus: 200, expUser: "bob"},
		{name: "wrong password", auth: basic("alice", "nope"), expStatus: 401},
		{name: "unknown user", auth: basic("eve", "correct horse"), expStatus: 401},
		{name: "missing", expStatus: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Consumer-Username", "spoofed")
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			in := &pipeline.Request{}
			w := g.Do(r, in)
			assert.Equal(t, tc.expStatus, w.Code)
			if tc.expStatus == 200 {
				assert.Equal(t, tc.expUser, w.Header().Get("X-Saw-User"))
				assert.Equal(t, tc.expUser, in.Properties["auth.principal"])
				return
			}
			assert.JSONEq(t, `{"message":"Unauthorized"}`, w.Body.String())
			assert.Equal(t, `Basic realm="admin", charset="UTF-8"`, w.Header().Get("WWW-Authenticate"))
			assert.Empty(t, w.Header().Get("X-Saw-User"))
		})
	}
}
