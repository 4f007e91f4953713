package plugin

import (
	"errors"

	"github.com/wasmgate/gateway/abi"
)

// ErrBadSignature is VerifySignature's answer when the signature does not
// match the data and key.
var ErrBadSignature = errors.New("signature does not match")

// cryptoVerifier is the optional host capability behind VerifySignature. It is
// separate from hostapi.Host so that fakes without it keep compiling.
type cryptoVerifier interface {
	CryptoVerify(alg string, key, data, sig []byte) int32
}

// HostCrypto reports whether the host verifies signatures natively
// (abi.FeatureCryptoVerify). Check it once, in OnConfigure.
func HostCrypto() bool {
	_, ok := host().(cryptoVerifier)
	return ok && Features()&abi.FeatureCryptoVerify != 0
}

// VerifySignature asks the host to check a JWS signature natively, which is
// about 10x faster than Go's crypto inside the guest. alg is a JWS name
// (RS256/384/512, PS256/384/512, ES256/384/512, EdDSA); key is a DER
// SubjectPublicKeyInfo (x509.MarshalPKIXPublicKey) or a raw Ed25519 public
// key; sig is in JWS form (ECDSA: fixed-size r||s).
//
// It returns nil when the signature is valid, ErrBadSignature when it is not,
// ErrInvalid for an unknown alg or a key that does not parse or does not suit
// alg, and ErrUnavailable when the host lacks abi.FeatureCryptoVerify (verify
// in the guest instead).
func VerifySignature(alg string, key, data, sig []byte) error {
	v, ok := host().(cryptoVerifier)
	if !ok {
		return ErrUnavailable
	}
	switch rc := v.CryptoVerify(alg, key, data, sig); rc {
	case abi.ResultOK:
		return nil
	case abi.ResultBadSignature:
		return ErrBadSignature
	default:
		return result(rc)
	}
}
