package wasm

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
)

// hostCryptoDigest implements abi.FuncCryptoDigest.
func hostCryptoDigest(_ context.Context, in *instance, s []uint64) {
	const fn = abi.FuncCryptoDigest
	key := in.read(fn, s[1], s[2])
	data := in.read(fn, s[3], s[4])
	sum, ok := digest(api.DecodeI32(s[0]), key, data, in.scratch[:0])
	if !ok {
		s[0] = api.EncodeI32(abi.ResultInvalid)
		return
	}
	in.scratch = sum[:0]
	s[0] = in.writeBytes(fn, s[5], s[6], sum)
}

// digest appends alg's digest of data (keyed with key for an HMAC) to out;
// ok is false for an unknown alg or a key given to a plain digest.
func digest(alg int32, key, data, out []byte) (sum []byte, ok bool) {
	if alg <= abi.DigestSHA512 && len(key) > 0 {
		return nil, false
	}
	var h func() hash.Hash
	switch alg {
	case abi.DigestSHA256:
		d := sha256.Sum256(data)
		return append(out, d[:]...), true
	case abi.DigestSHA384:
		d := sha512.Sum384(data)
		return append(out, d[:]...), true
	case abi.DigestSHA512:
		d := sha512.Sum512(data)
		return append(out, d[:]...), true
	case abi.DigestHMACSHA256:
		h = sha256.New
	case abi.DigestHMACSHA384:
		h = sha512.New384
	case abi.DigestHMACSHA512:
		h = sha512.New
	default:
		return nil, false
	}
	m := hmac.New(h, key)
	m.Write(data)
	return m.Sum(out), true
}
