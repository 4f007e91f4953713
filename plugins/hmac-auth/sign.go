package main

import (
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// The wire names of the scheme. Clients must use exactly these.
const (
	// Algorithm is the Authorization scheme and the first line of the string to sign.
	Algorithm = "GW1-HMAC-SHA256"
	// KeyPrefix is prepended to the secret to derive the signing key.
	KeyPrefix = "GW1"
	// DateHeader carries the signing time in ISO 8601 basic format (DateFormat).
	DateHeader = "X-Gw-Date"
	// ContentHeader optionally carries the payload hash, or UnsignedPayload.
	ContentHeader = "X-Gw-Content-Sha256"
	// UnsignedPayload in ContentHeader leaves the body out of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// DateFormat is ISO 8601 basic, UTC.
	DateFormat = "20060102T150405Z"
)

// signer computes signatures. The gateway uses GW1 names; the AWS names
// ("AWS4-HMAC-SHA256", "AWS4") reproduce SigV4, which the tests use to check
// the algorithm against AWS's published test vectors.
type signer struct{ algorithm, keyPrefix string }

var gw1 = signer{Algorithm, KeyPrefix}

// canonicalRequest builds
//
//	METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// where CanonicalHeaders is "name:value\n" per signed header. names are the
// signed header names (lowercase, sorted); values[i] are the request's values
// of names[i].
func (signer) canonicalRequest(method, escapedPath, rawQuery string, names []string, values [][]string, payloadHash string) (string, error) {
	uri, err := canonicalURI(escapedPath)
	if err != nil {
		return "", err
	}
	query, err := canonicalQuery(rawQuery)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for i, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		for j, v := range values[i] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Join(strings.Fields(v), " "))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// stringToSign is "Algorithm \n date \n day/scope \n hex(sha256(canonical))".
func (s signer) stringToSign(date, day, scope, canonical string) string {
	h := plugin.SHA256([]byte(canonical))
	return s.algorithm + "\n" + date + "\n" + day + "/" + scope + "\n" + hex.EncodeToString(h[:])
}

// signingKey is HMAC chained over the day and each "/"-separated part of
// scope, starting from KeyPrefix+secret (SigV4's kDate, kRegion, kService,
// kSigning).
func (s signer) signingKey(secret, day, scope string) []byte {
	k := hmacSHA256([]byte(s.keyPrefix+secret), day)
	for part := range strings.SplitSeq(scope, "/") {
		k = hmacSHA256(k, part)
	}
	return k
}

func hmacSHA256(key []byte, msg string) []byte {
	m := plugin.HMACSHA256(key, []byte(msg))
	return m[:]
}

// canonicalURI decodes each segment of the escaped path and re-encodes it
// with uriEncode; "" becomes "/". Dot segments are kept as sent.
func canonicalURI(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", errors.New("path is not validly escaped")
		}
		segs[i] = uriEncode(d)
	}
	return strings.Join(segs, "/"), nil
}

// canonicalQuery decodes every name=value pair (a missing "=" means an empty
// value, '+' is a space), re-encodes both with uriEncode, and sorts by name,
// then value.
func canonicalQuery(q string) (string, error) {
	if q == "" {
		return "", nil
	}
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", errors.New("query is not validly escaped")
		}
		pairs = append(pairs, pair{uriEncode(dk), uriEncode(dv)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// uriEncode percent-encodes every byte except the RFC 3986 unreserved
// characters A-Z a-z 0-9 - . _ ~, with upper-case hex.
func uriEncode(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}
