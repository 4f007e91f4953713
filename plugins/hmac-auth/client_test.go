package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// This file is the client side, written independently of the plugin's code
// (README.md shows the same function): a bug in the plugin's canonical form
// shows up as a signature mismatch in the tests rather than being mirrored.

// SignRequest signs r for the hmac-auth plugin. body is r's body (nil for
// none). It sets X-Gw-Date (and X-Gw-Content-Sha256 with unsignedPayload) and
// Authorization, signing host, x-gw-date, and content-type and
// x-gw-content-sha256 when present.
func SignRequest(r *http.Request, body []byte, accessKey, secret, scope string, now time.Time, unsignedPayload bool) {
	date := now.UTC().Format("20060102T150405Z")
	day := date[:8]
	r.Header.Set("X-Gw-Date", date)
	payloadHash := "UNSIGNED-PAYLOAD"
	if unsignedPayload {
		r.Header.Set("X-Gw-Content-Sha256", payloadHash)
	} else {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	headers := map[string]string{"host": host, "x-gw-date": date}
	for _, name := range []string{"Content-Type", "X-Gw-Content-Sha256"} {
		if vs := r.Header.Values(name); len(vs) > 0 {
			for i, v := range vs {
				vs[i] = strings.Join(strings.Fields(v), " ")
			}
			headers[strings.ToLower(name)] = strings.Join(vs, ",")
		}
	}
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	sort.Strings(names)

	// Canonical URI: every path segment decoded, then encoded.
	segs := strings.Split(r.URL.EscapedPath(), "/")
	for i, s := range segs {
		d, _ := url.PathUnescape(s)
		segs[i] = encode(d)
	}
	uri := strings.Join(segs, "/")
	if uri == "" {
		uri = "/"
	}
	// Canonical query: pairs decoded, encoded, sorted by name then value.
	var pairs [][2]string
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		pairs = append(pairs, [2]string{encode(k), encode(v)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	query := make([]string, len(pairs))
	for i, p := range pairs {
		query[i] = p[0] + "=" + p[1]
	}

	canonical := r.Method + "\n" + uri + "\n" + strings.Join(query, "&") + "\n"
	for _, n := range names {
		canonical += n + ":" + headers[n] + "\n"
	}
	canonical += "\n" + strings.Join(names, ";") + "\n" + payloadHash

	sum := sha256.Sum256([]byte(canonical))
	stringToSign := "GW1-HMAC-SHA256\n" + date + "\n" + day + "/" + scope + "\n" + hex.EncodeToString(sum[:])

	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	key := mac([]byte("GW1"+secret), day)
	for _, part := range strings.Split(scope, "/") {
		key = mac(key, part)
	}
	signature := hex.EncodeToString(mac(key, stringToSign))
	r.Header.Set("Authorization", "GW1-HMAC-SHA256 Credential="+accessKey+"/"+day+"/"+scope+
		", SignedHeaders="+strings.Join(names, ";")+", Signature="+signature)
}

// encode percent-encodes all but A-Z a-z 0-9 - . _ ~ (upper-case hex).
func encode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}
