//go:build wasip1

package plugin

import (
	"unsafe"

	"github.com/wasmgate/gateway/abi"
)

// The crypto_digest import (abi/digest.go). The literal must match package
// abi; TestSchemaImportNames checks it.
//
//go:wasmimport gateway_v1 crypto_digest
func hCryptoDigest(alg int32, key unsafe.Pointer, keyLen uint32, data unsafe.Pointer, dataLen uint32, buf unsafe.Pointer, limit uint32) int32

// digestFeature is 0 until the first digest asks the host's features (they
// do not change while an instance lives), then 1 with crypto_digest, 2
// without.
var digestFeature uint8

// hostDigest has the host write alg's digest of data into out, which has
// the digest's size; false when the host lacks crypto_digest.
func hostDigest(alg int32, key, data, out []byte) bool {
	if digestFeature == 0 {
		digestFeature = 2
		if Features()&abi.FeatureCryptoDigest != 0 {
			digestFeature = 1
		}
	}
	if digestFeature != 1 {
		return false
	}
	kp, kl := bp(key)
	dp, dl := bp(data)
	// The host writes into digestBuf, not out: a pointer passed to an import
	// escapes, and out is usually the caller's stack array.
	n := hCryptoDigest(alg, kp, kl, dp, dl, unsafe.Pointer(&digestBuf), uint32(len(out)))
	if n != int32(len(out)) {
		return false
	}
	copy(out, digestBuf[:n])
	return true
}

var digestBuf [64]byte
