package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// keyKind is a key's type; a key only verifies algorithms of its kind, which
// is what stops HS/RS key confusion.
type keyKind string

const (
	kindHMAC    keyKind = "oct"
	kindRSA     keyKind = "RSA"
	kindEC      keyKind = "EC"
	kindEd25519 keyKind = "Ed25519"
)

// minRSABits is the smallest RSA modulus accepted.
const minRSABits = 2048

// key is one typed verification key.
type key struct {
	kid    string
	alg    string // pinned algorithm, or ""
	kind   keyKind
	secret []byte // kindHMAC
	pub    any    // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
	curve  string // kindEC: "P-256", "P-384", "P-521"
	hostID []byte // what crypto_verify gets: DER SPKI, or raw Ed25519
	ecSize int    // kindEC: bytes of r and of s
}

// algKind returns the key kind (and EC curve) an algorithm needs.
func algKind(alg string) (keyKind, string) {
	switch alg {
	case "HS256", "HS384", "HS512":
		return kindHMAC, ""
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return kindRSA, ""
	case "ES256":
		return kindEC, "P-256"
	case "ES384":
		return kindEC, "P-384"
	case "ES512":
		return kindEC, "P-521"
	case "EdDSA":
		return kindEd25519, ""
	}
	return "", ""
}

// allows reports whether k may verify a token signed with alg.
func (k *key) allows(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	kind, curve := algKind(alg)
	return kind == k.kind && curve == k.curve
}

func anyAllowed(k *key, algs map[string]bool) bool {
	for a := range algs {
		if k.allows(a) {
			return true
		}
	}
	return false
}

func parseKeyConfig(kc KeyConfig) (*key, error) {
	n := 0
	for _, set := range []bool{kc.PEM != "", len(kc.JWK) > 0, kc.Secret != "", kc.SecretBase64 != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("set exactly one of pem, jwk, secret or secret_base64")
	}
	var k *key
	var err error
	switch {
	case kc.PEM != "":
		k, err = parsePEM(kc.PEM)
	case len(kc.JWK) > 0:
		var j jwk
		if err := json.Unmarshal(kc.JWK, &j); err != nil {
			return nil, fmt.Errorf("jwk: %w", err)
		}
		k, err = j.key()
	case kc.Secret != "":
		k, err = hmacKey([]byte(kc.Secret))
	default:
		b, derr := base64.StdEncoding.DecodeString(kc.SecretBase64)
		if derr != nil {
			b, derr = base64.RawURLEncoding.DecodeString(strings.TrimRight(kc.SecretBase64, "="))
		}
		if derr != nil {
			return nil, errors.New("secret_base64: not base64")
		}
		k, err = hmacKey(b)
	}
	if err != nil {
		return nil, err
	}
	if kc.Kid != "" {
		k.kid = kc.Kid
	}
	if kc.Alg != "" {
		if k.alg != "" && k.alg != kc.Alg {
			return nil, fmt.Errorf("alg %q contradicts the jwk's alg %q", kc.Alg, k.alg)
		}
		k.alg = kc.Alg
	}
	if k.alg != "" && !k.allows(k.alg) {
		return nil, fmt.Errorf("alg %q does not suit a %s key", k.alg, k.kind)
	}
	return k, nil
}

func hmacKey(secret []byte) (*key, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("hmac secret has %d bytes; use at least 32 random bytes", len(secret))
	}
	return &key{kind: kindHMAC, secret: secret}, nil
}

func parsePEM(s string) (*key, error) {
	b, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if b == nil {
		return nil, errors.New("pem: no PEM block found; paste a -----BEGIN PUBLIC KEY----- block")
	}
	var pub any
	var err error
	switch b.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(b.Bytes); err == nil {
			pub = c.PublicKey
		}
	default:
		return nil, fmt.Errorf("pem: block type %q is not a public key; use PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE (never a private key)", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("pem: %w", err)
	}
	return publicKey(pub)
}

// publicKey types a parsed public key.
func publicKey(pub any) (*key, error) {
	k := &key{pub: pub}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("rsa key has %d bits; use at least %d", p.N.BitLen(), minRSABits)
		}
		k.kind = kindRSA
	case *ecdsa.PublicKey:
		k.kind, k.curve = kindEC, p.Curve.Params().Name
		if !slices.Contains([]string{"P-256", "P-384", "P-521"}, k.curve) {
			return nil, fmt.Errorf("ec curve %s is not supported; use P-256, P-384 or P-521", k.curve)
		}
		k.ecSize = (p.Curve.Params().BitSize + 7) / 8
	case ed25519.PublicKey:
		k.kind = kindEd25519
		k.hostID = p
		return k, nil
	default:
		return nil, fmt.Errorf("public key type %T is not supported; use RSA, EC or Ed25519", pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	k.hostID = der
	return k, nil
}

// jwk is a JSON Web Key (RFC 7517); only public members are read.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
	K   string `json:"k"`
	D   string `json:"d"`
}

func b64(field, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("jwk: %s is not base64url", field)
	}
	return b, nil
}

func (j *jwk) key() (*key, error) {
	if j.Use != "" && j.Use != "sig" {
		return nil, fmt.Errorf("jwk: use %q is not \"sig\"", j.Use)
	}
	var k *key
	var err error
	switch j.Kty {
	case "RSA":
		if j.D != "" {
			return nil, errors.New("jwk: this is a private key; configure the public key only")
		}
		n, err1 := b64("n", j.N)
		e, err2 := b64("e", j.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if len(e) > 4 {
			return nil, errors.New("jwk: e is too large")
		}
		k, err = publicKey(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())})
	case "EC":
		if j.D != "" {
			return nil, errors.New("jwk: this is a private key; configure the public key only")
		}
		var c elliptic.Curve
		switch j.Crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("jwk: crv %q is not supported; use P-256, P-384 or P-521", j.Crv)
		}
		x, err1 := b64("x", j.X)
		y, err2 := b64("y", j.Y)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		size := (c.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("jwk: x and y must be %d bytes for %s", size, j.Crv)
		}
		// Validate the point through the uncompressed SEC 1 encoding, which
		// crypto/ecdh checks to be on the curve.
		pt := append(append([]byte{4}, x...), y...)
		pub, perr := ecdsa.ParseUncompressedPublicKey(c, pt)
		if perr != nil {
			return nil, fmt.Errorf("jwk: point is not on %s", j.Crv)
		}
		k, err = publicKey(pub)
	case "OKP":
		if j.D != "" {
			return nil, errors.New("jwk: this is a private key; configure the public key only")
		}
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("jwk: OKP crv %q is not supported; use Ed25519", j.Crv)
		}
		x, err1 := b64("x", j.X)
		if err1 != nil {
			return nil, err1
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, errors.New("jwk: Ed25519 x must be 32 bytes")
		}
		k, err = publicKey(ed25519.PublicKey(x))
	case "oct":
		s, err1 := b64("k", j.K)
		if err1 != nil {
			return nil, err1
		}
		k, err = hmacKey(s)
	default:
		return nil, fmt.Errorf("jwk: kty %q is not supported; use RSA, EC, OKP or oct", j.Kty)
	}
	if err != nil {
		return nil, err
	}
	k.kid, k.alg = j.Kid, j.Alg
	if k.alg != "" && !k.allows(k.alg) {
		return nil, fmt.Errorf("jwk: alg %q does not suit a %s key", k.alg, k.kind)
	}
	return k, nil
}

// jwkSet is a JWKS document.
type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// parseJWKS returns the usable signing keys of a JWKS; unusable entries
// (encryption keys, unsupported types) are skipped and described in skipped.
func parseJWKS(doc []byte) (keys []*key, skipped []string, err error) {
	var set jwkSet
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, nil, fmt.Errorf("jwks: %w", err)
	}
	if set.Keys == nil {
		return nil, nil, errors.New(`jwks: no "keys" array`)
	}
	for i, raw := range set.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			skipped = append(skipped, fmt.Sprintf("keys[%d]: %v", i, err))
			continue
		}
		if j.Kty == "oct" {
			skipped = append(skipped, fmt.Sprintf("keys[%d] (kid %q): symmetric keys are not accepted from a JWKS", i, j.Kid))
			continue
		}
		k, err := j.key()
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("keys[%d] (kid %q): %v", i, j.Kid, err))
			continue
		}
		keys = append(keys, k)
	}
	return keys, skipped, nil
}
