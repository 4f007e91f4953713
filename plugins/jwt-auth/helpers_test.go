package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

// testKeys are generated once per test binary (RSA generation is slow).
type testKeys struct {
	rsa, rsa2        *rsa.PrivateKey
	p256, p384, p521 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
	secret           []byte
}

var genKeys = sync.OnceValue(func() *testKeys {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	k := &testKeys{secret: []byte("0123456789abcdef0123456789abcdef-hmac")}
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	k.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return k
})

func pemOf(t testing.TB, pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pad(b []byte, n int) []byte { return append(make([]byte, n-len(b)), b...) }

// jwkOf renders a public key as a JWK.
func jwkOf(pub any, kid string) map[string]any {
	m := map[string]any{"kid": kid}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64u(p.N.Bytes()), b64u(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		m["kty"], m["crv"] = "EC", p.Curve.Params().Name
		m["x"], m["y"] = b64u(pad(p.X.Bytes(), size)), b64u(pad(p.Y.Bytes(), size))
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64u(p)
	case []byte:
		m["kty"], m["k"] = "oct", b64u(p)
	}
	return m
}

func jsonOf(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// sign makes a token with golang-jwt, an implementation independent of the plugin's.
func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// raw builds a token from an arbitrary header and payload and a signature.
func raw(header, payload string, sig []byte) string {
	return b64u([]byte(header)) + "." + b64u([]byte(payload)) + "." + b64u(sig)
}

// valid returns claims valid for an hour from now.
func valid(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "iss": "https://idp.test", "aud": "api", "tenant": "t1"}
}

// hostVerifier stands in for the host's crypto_verify in native tests: it
// parses the DER the plugin hands over and verifies with the guest code.
func hostVerifier(calls *int) func(alg string, keyDER, data, sig []byte) int32 {
	return func(alg string, keyDER, data, sig []byte) int32 {
		*calls++
		var pub any = ed25519.PublicKey(keyDER)
		if alg != "EdDSA" {
			p, err := x509.ParsePKIXPublicKey(keyDER)
			if err != nil {
				return abi.ResultInvalid
			}
			pub = p
		}
		k, err := publicKey(pub)
		if err != nil || !k.allows(alg) {
			return abi.ResultInvalid
		}
		if verifyGuest(alg, k, data, sig) != nil {
			return abi.ResultBadSignature
		}
		return abi.ResultOK
	}
}
