package wasm

import (
	"testing"
)

// BenchmarkVerifyJWS is the native cost behind crypto_verify (compare with
// the guest-only numbers in plugins/jwt-auth).
func BenchmarkVerifyJWS(b *testing.B) {
	k := newJWSKeys(b)
	data := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9")
	for _, tc := range []struct {
		alg string
		key []byte
		sig []byte
	}{
		{"RS256", der(b, &k.rsa.PublicKey), signJWS(b, "RS256", k.rsa, data)},
		{"ES256", der(b, &k.p256.PublicKey), signJWS(b, "ES256", k.p256, data)},
		{"EdDSA", der(b, k.ed.Public()), signJWS(b, "EdDSA", k.ed, data)},
	} {
		b.Run(tc.alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if verifyJWS(tc.alg, tc.key, data, tc.sig) != 0 {
					b.Fatal("verify failed")
				}
			}
		})
	}
}
