package wasm

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wasmgate/gateway/abi"
)

func TestDigest(t *testing.T) {
	data := []byte("The quick brown fox jumps over the lazy dog")
	key := []byte("secret")
	sum := func(h func() hash.Hash) []byte { m := h(); m.Write(data); return m.Sum(nil) }
	mac := func(h func() hash.Hash) []byte { m := hmac.New(h, key); m.Write(data); return m.Sum(nil) }
	tests := []struct {
		name string
		alg  int32
		key  []byte
		exp  []byte // nil: invalid
	}{
		{name: "sha256", alg: abi.DigestSHA256, exp: sum(sha256.New)},
		{name: "sha384", alg: abi.DigestSHA384, exp: sum(sha512.New384)},
		{name: "sha512", alg: abi.DigestSHA512, exp: sum(sha512.New)},
		{name: "hmac-sha256", alg: abi.DigestHMACSHA256, key: key, exp: mac(sha256.New)},
		{name: "hmac-sha384", alg: abi.DigestHMACSHA384, key: key, exp: mac(sha512.New384)},
		{name: "hmac-sha512", alg: abi.DigestHMACSHA512, key: key, exp: mac(sha512.New)},
		{name: "hmac with an empty key", alg: abi.DigestHMACSHA256, exp: func() []byte { m := hmac.New(sha256.New, nil); m.Write(data); return m.Sum(nil) }()},
		{name: "a key for a plain digest", alg: abi.DigestSHA256, key: key},
		{name: "a key for sha512", alg: abi.DigestSHA512, key: key},
		{name: "unknown alg", alg: 0},
		{name: "unknown alg 7", alg: 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := digest(tc.alg, tc.key, data, make([]byte, 0, 64))
			assert.Equal(t, tc.exp != nil, ok)
			assert.Equal(t, tc.exp, got)
		})
	}
}

// BenchmarkDigest is crypto_digest's host side for a short key (key-auth)
// and an HMAC of a SigV4 string to sign (hmac-auth).
func BenchmarkDigest(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	sts := make([]byte, 150)
	out := make([]byte, 0, 64)
	b.Run("sha256-32B", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			digest(abi.DigestSHA256, nil, key, out)
		}
	})
	b.Run("hmac-sha256-150B", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			digest(abi.DigestHMACSHA256, key, sts, out)
		}
	})
}
