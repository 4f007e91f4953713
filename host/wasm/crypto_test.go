package wasm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

type jwsKeys struct {
	rsa              *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
}

func newJWSKeys(t testing.TB) *jwsKeys {
	k := &jwsKeys{}
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	k.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func der(t testing.TB, pub any) []byte {
	b, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return b
}

// signJWS signs data the way a JWS issuer does (ECDSA as fixed-size r||s).
func signJWS(t testing.TB, alg string, priv crypto.Signer, data []byte) []byte {
	var h crypto.Hash
	switch alg[2:] {
	case "256":
		h = crypto.SHA256
	case "384":
		h = crypto.SHA384
	case "512":
		h = crypto.SHA512
	}
	var digest []byte = data
	if h != 0 {
		hh := h.New()
		hh.Write(data)
		digest = hh.Sum(nil)
	}
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		if alg[0] == 'P' {
			s, err := rsa.SignPSS(rand.Reader, p, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			require.NoError(t, err)
			return s
		}
		s, err := rsa.SignPKCS1v15(rand.Reader, p, h, digest)
		require.NoError(t, err)
		return s
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, p, digest)
		require.NoError(t, err)
		size := (p.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	case ed25519.PrivateKey:
		return ed25519.Sign(p, data)
	}
	t.Fatalf("unknown key %T", priv)
	return nil
}

func TestVerifyJWS(t *testing.T) {
	k := newJWSKeys(t)
	data := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9")
	rsaDER, p256DER := der(t, &k.rsa.PublicKey), der(t, &k.p256.PublicKey)
	edPub := k.ed.Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		alg  string
		key  []byte
		sig  []byte
		exp  int32
	}{
		{"RS256", "RS256", rsaDER, signJWS(t, "RS256", k.rsa, data), abi.ResultOK},
		{"RS384", "RS384", rsaDER, signJWS(t, "RS384", k.rsa, data), abi.ResultOK},
		{"RS512", "RS512", rsaDER, signJWS(t, "RS512", k.rsa, data), abi.ResultOK},
		{"PS256", "PS256", rsaDER, signJWS(t, "PS256", k.rsa, data), abi.ResultOK},
		{"PS384", "PS384", rsaDER, signJWS(t, "PS384", k.rsa, data), abi.ResultOK},
		{"PS512", "PS512", rsaDER, signJWS(t, "PS512", k.rsa, data), abi.ResultOK},
		{"ES256", "ES256", p256DER, signJWS(t, "ES256", k.p256, data), abi.ResultOK},
		{"ES384", "ES384", der(t, &k.p384.PublicKey), signJWS(t, "ES384", k.p384, data), abi.ResultOK},
		{"ES512", "ES512", der(t, &k.p521.PublicKey), signJWS(t, "ES512", k.p521, data), abi.ResultOK},
		{"EdDSA DER", "EdDSA", der(t, edPub), signJWS(t, "EdDSA", k.ed, data), abi.ResultOK},
		{"EdDSA raw", "EdDSA", edPub, signJWS(t, "EdDSA", k.ed, data), abi.ResultOK},
		{"RS256 bad signature", "RS256", rsaDER, signJWS(t, "RS384", k.rsa, data), abi.ResultBadSignature},
		{"PS256 signature checked as RS256", "RS256", rsaDER, signJWS(t, "PS256", k.rsa, data), abi.ResultBadSignature},
		{"ES256 flipped bit", "ES256", p256DER, func() []byte { s := signJWS(t, "ES256", k.p256, data); s[5] ^= 1; return s }(), abi.ResultBadSignature},
		{"ES256 DER-encoded signature", "ES256", p256DER, make([]byte, 70), abi.ResultBadSignature},
		{"EdDSA bad", "EdDSA", edPub, make([]byte, 64), abi.ResultBadSignature},
		{"ES384 with a P-256 key", "ES384", p256DER, signJWS(t, "ES256", k.p256, data), abi.ResultInvalid},
		{"RS256 with an EC key", "RS256", p256DER, signJWS(t, "ES256", k.p256, data), abi.ResultInvalid},
		{"ES256 with an RSA key", "ES256", rsaDER, signJWS(t, "RS256", k.rsa, data), abi.ResultInvalid},
		{"EdDSA with an RSA key", "EdDSA", rsaDER, signJWS(t, "RS256", k.rsa, data), abi.ResultInvalid},
		{"HS256 is not offered", "HS256", []byte("secret"), nil, abi.ResultInvalid},
		{"alg none", "none", rsaDER, nil, abi.ResultInvalid},
		{"garbage key", "RS256", []byte("not a key"), signJWS(t, "RS256", k.rsa, data), abi.ResultInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, verifyJWS(tc.alg, tc.key, data, tc.sig))
		})
	}
}
