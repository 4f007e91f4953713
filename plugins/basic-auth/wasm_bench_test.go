package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/wasmgate/gateway/host/pipeline"
)

// noopDir is the host's no-op Go test plugin, the baseline.
const noopDir = "../../host/wasm/testdata/plugins/noop"

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchPlugin(b *testing.B, dir, cfg, auth string) {
	g := newGateway(b, dir, cfg)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", auth)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		g.Chain.Handle(w, r, &pipeline.Request{}, upstream)
	}
}

// BenchmarkBasicAuth is one request through the plugin against the no-op
// plugin: with the verification cache (the steady state of a client) and
// without it, at production-strength hash parameters (bcrypt cost 10,
// argon2id OWASP m=19 MiB, t=2, p=1).
func BenchmarkBasicAuth(b *testing.B) {
	bc, err := bcrypt.GenerateFromPassword([]byte("pw"), 10)
	require.NoError(b, err)
	salt := []byte("0123456789abcdef")
	a2 := fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("pw"), salt, 2, 19456, 1, 32)))
	users := fmt.Sprintf(`{"users":{"alice":%q,"bob":%q}`, bc, a2)
	b.Run("noop", func(b *testing.B) { benchPlugin(b, noopDir, "", basic("alice", "pw")) })
	b.Run("cached", func(b *testing.B) { benchPlugin(b, ".", users+`}`, basic("alice", "pw")) })
	b.Run("uncached-bcrypt-10", func(b *testing.B) { benchPlugin(b, ".", users+`,"cache_ttl":"0s"}`, basic("alice", "pw")) })
	b.Run("uncached-argon2id-19MiB", func(b *testing.B) { benchPlugin(b, ".", users+`,"cache_ttl":"0s"}`, basic("bob", "pw")) })
}
