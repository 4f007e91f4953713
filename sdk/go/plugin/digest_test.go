package plugin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wasmgate/gateway/abi"
)

// TestDigest: natively the SDK computes digests with Go's crypto (the
// gateway's crypto_digest is tested in host/wasm, through a guest).
func TestDigest(t *testing.T) {
	data, key := []byte("abc"), []byte("key")
	mac := hmac.New(sha512.New384, key)
	mac.Write(data)
	tests := []struct {
		name   string
		alg    int32
		key    []byte
		exp    []byte
		expErr error
	}{
		{name: "sha512", alg: abi.DigestSHA512, exp: func() []byte { s := sha512.Sum512(data); return s[:] }()},
		{name: "hmac-sha384", alg: abi.DigestHMACSHA384, key: key, exp: mac.Sum(nil)},
		{name: "a key for a plain digest", alg: abi.DigestSHA384, key: key, expErr: ErrInvalid},
		{name: "unknown alg", alg: 42, expErr: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Digest(tc.alg, tc.key, data)
			assert.ErrorIs(t, err, tc.expErr)
			assert.Equal(t, tc.exp, got)
		})
	}
	assert.Equal(t, sha256.Sum256(data), SHA256(data))
	m := hmac.New(sha256.New, key)
	m.Write(data)
	got := HMACSHA256(key, data)
	assert.Equal(t, m.Sum(nil), got[:])
}
