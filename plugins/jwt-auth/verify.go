package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// b64url is the JWS encoding: unpadded base64url, with non-zero trailing bits
// rejected so that each token has exactly one encoding.
var b64url = base64.RawURLEncoding.Strict()

// header is the JOSE header. jku, x5u, x5c and jwk are deliberately not
// decoded: keys come only from the config.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// token is a parsed, not yet verified, compact JWS.
type token struct {
	header  header
	signed  string // base64url(header) "." base64url(payload)
	payload []byte
	sig     []byte
}

// authError is a rejection; reason goes to the log only.
type authError struct {
	status int // 401 or 403
	reason string
}

func (e *authError) Error() string { return e.reason }

func unauthorized(format string, args ...any) *authError {
	return &authError{status: 401, reason: fmt.Sprintf(format, args...)}
}

// parseToken splits and decodes a compact JWS without trusting any of it.
func parseToken(raw string, max int) (*token, error) {
	if len(raw) > max {
		return nil, unauthorized("token is %d bytes, over max_token_bytes %d", len(raw), max)
	}
	h, rest, ok1 := strings.Cut(raw, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return nil, unauthorized("token is not three dot-separated segments (JWE and JSON serialization are not accepted)")
	}
	if h == "" || p == "" || s == "" {
		return nil, unauthorized("token has an empty segment (unsigned tokens are rejected)")
	}
	t := &token{signed: raw[:len(h)+1+len(p)]}
	hb, err := b64url.DecodeString(h)
	if err != nil {
		return nil, unauthorized("token header is not base64url")
	}
	if t.payload, err = b64url.DecodeString(p); err != nil {
		return nil, unauthorized("token payload is not base64url")
	}
	if t.sig, err = b64url.DecodeString(s); err != nil {
		return nil, unauthorized("token signature is not base64url")
	}
	if err := json.Unmarshal(hb, &t.header); err != nil {
		return nil, unauthorized("token header is not a JSON object")
	}
	if strings.EqualFold(t.header.Alg, "none") {
		return nil, unauthorized("token alg %q is refused", t.header.Alg)
	}
	if len(t.header.Crit) > 0 && !bytes.Equal(t.header.Crit, []byte("null")) {
		return nil, unauthorized("token has crit header parameters, none of which are supported")
	}
	return t, nil
}

func hashFor(alg string) (crypto.Hash, func() hash.Hash) {
	switch alg[2:] {
	case "256":
		return crypto.SHA256, sha256.New
	case "384":
		return crypto.SHA384, sha512.New384
	case "512":
		return crypto.SHA512, sha512.New
	}
	return 0, nil
}

// hmacDigest is the crypto_digest algorithm of HS256, HS384 and HS512, by
// the alg's size.
var hmacDigest = map[string]int32{"256": abi.DigestHMACSHA256, "384": abi.DigestHMACSHA384, "512": abi.DigestHMACSHA512}

// errBadSignature is a signature that does not verify.
var errBadSignature = errors.New("signature does not match")

// verifySig checks t's signature with k: HMACs on the host when it offers
// crypto_digest (plugin.Digest), asymmetric signatures on the host when
// useHost is set.
func verifySig(t *token, k *key, useHost bool) error {
	alg := t.header.Alg
	if !k.allows(alg) {
		return fmt.Errorf("key %q (%s) cannot verify %s", k.kid, k.kind, alg)
	}
	if k.kind == kindHMAC {
		mac, err := plugin.Digest(hmacDigest[alg[2:]], k.secret, []byte(t.signed))
		if err != nil {
			return err
		}
		if !hmac.Equal(mac, t.sig) {
			return errBadSignature
		}
		return nil
	}
	if useHost {
		err := plugin.VerifySignature(alg, k.hostID, []byte(t.signed), t.sig)
		if errors.Is(err, plugin.ErrBadSignature) {
			return errBadSignature
		}
		return err
	}
	return verifyGuest(alg, k, []byte(t.signed), t.sig)
}

// verifyGuest checks an asymmetric signature with Go's crypto in the guest.
func verifyGuest(alg string, k *key, data, sig []byte) error {
	if k.kind == kindEd25519 {
		if !ed25519.Verify(k.pub.(ed25519.PublicKey), data, sig) {
			return errBadSignature
		}
		return nil
	}
	ch, hf := hashFor(alg)
	h := hf()
	h.Write(data)
	digest := h.Sum(nil)
	var ok bool
	switch k.kind {
	case kindRSA:
		pub := k.pub.(*rsa.PublicKey)
		if alg[0] == 'P' {
			ok = rsa.VerifyPSS(pub, ch, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(pub, ch, digest, sig) == nil
		}
	case kindEC:
		if len(sig) != 2*k.ecSize {
			return errBadSignature
		}
		r := new(big.Int).SetBytes(sig[:k.ecSize])
		s := new(big.Int).SetBytes(sig[k.ecSize:])
		ok = ecdsa.Verify(k.pub.(*ecdsa.PublicKey), digest, r, s)
	}
	if !ok {
		return errBadSignature
	}
	return nil
}
