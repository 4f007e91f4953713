package plugin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"

	"github.com/wasmgate/gateway/abi"
)

// Digests and HMACs. Go's SHA-2 has no assembly in wasm: a Go guest spends
// about 1.5 µs per 64-byte block, 20x the gateway. On a host with
// abi.FeatureCryptoDigest these functions have the host compute them
// (crypto_digest); elsewhere, and in native tests, Go's crypto computes the
// same bytes in the guest. Use them instead of crypto/sha256 and crypto/hmac
// on the request path.

// SHA256 returns the SHA-256 digest of data.
func SHA256(data []byte) [sha256.Size]byte {
	var out [sha256.Size]byte
	if !hostDigest(abi.DigestSHA256, nil, data, out[:]) {
		out = sha256.Sum256(data)
	}
	return out
}

// HMACSHA256 returns the HMAC-SHA256 of data keyed with key.
func HMACSHA256(key, data []byte) [sha256.Size]byte {
	var out [sha256.Size]byte
	if !hostDigest(abi.DigestHMACSHA256, key, data, out[:]) {
		m := hmac.New(sha256.New, key)
		m.Write(data)
		m.Sum(out[:0])
	}
	return out
}

// Digest returns alg's digest of data (abi.DigestSHA256, DigestSHA384,
// DigestSHA512), or its HMAC keyed with key (abi.DigestHMACSHA256, 384,
// 512). Plain digests take no key. It returns ErrInvalid for an unknown alg
// or a key given to a plain digest.
func Digest(alg int32, key, data []byte) ([]byte, error) {
	var size int
	var h func() hash.Hash
	switch alg {
	case abi.DigestSHA256, abi.DigestHMACSHA256:
		size, h = sha256.Size, sha256.New
	case abi.DigestSHA384, abi.DigestHMACSHA384:
		size, h = sha512.Size384, sha512.New384
	case abi.DigestSHA512, abi.DigestHMACSHA512:
		size, h = sha512.Size, sha512.New
	default:
		return nil, errInvalidDigest
	}
	plain := alg <= abi.DigestSHA512
	if plain && len(key) > 0 {
		return nil, errInvalidDigest
	}
	out := make([]byte, size)
	if hostDigest(alg, key, data, out) {
		return out, nil
	}
	var m hash.Hash
	if plain {
		m = h()
	} else {
		m = hmac.New(h, key)
	}
	m.Write(data)
	return m.Sum(out[:0]), nil
}

var errInvalidDigest = fmt.Errorf("%w: an unknown digest algorithm, or a key for a plain digest", ErrInvalid)
