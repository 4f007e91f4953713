package abi

// Digests and HMACs by the host (abi/ABI.md, "crypto_digest"). Go's SHA-2
// has no assembly in wasm: a Go guest spends about 1.5 µs per 64-byte block,
// 20x the host, so a SHA-256 of a short key costs more than the rest of a
// key-auth request and an AWS SigV4 check (six HMACs and two hashes) tens of
// µs.
const (
	// FeatureCryptoDigest (a FuncFeatures bit): crypto_digest is available.
	FeatureCryptoDigest uint64 = 1 << 7

	// FuncCryptoDigest: (alg i32, key_ptr, key_len, data_ptr, data_len,
	// buf, limit) -> len | ResultInvalid. The digest of data under alg (one
	// of the Digest* constants), keyed with key for an HMAC; written to
	// buf+limit, whose len is the digest's size (32, 48 or 64).
	// ResultInvalid: an unknown alg, or a key for a plain digest.
	FuncCryptoDigest = "crypto_digest"
)

// Digest algorithms, crypto_digest's alg.
const (
	DigestSHA256     int32 = 1
	DigestSHA384     int32 = 2
	DigestSHA512     int32 = 3
	DigestHMACSHA256 int32 = 4
	DigestHMACSHA384 int32 = 5
	DigestHMACSHA512 int32 = 6
)
