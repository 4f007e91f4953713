//go:build wasip1

package plugin

// CryptoVerify implements cryptoVerifier with the gateway_v1 import.
func (wasmHost) CryptoVerify(alg string, key, data, sig []byte) int32 {
	ap, al := sp(alg)
	kp, kl := bp(key)
	dp, dl := bp(data)
	sgp, sgl := bp(sig)
	return hCryptoVerify(ap, al, kp, kl, dp, dl, sgp, sgl)
}
