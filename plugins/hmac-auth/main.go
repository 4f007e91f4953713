// Command hmac-auth is a gateway plugin that authenticates requests signed
// with a shared secret in the style of AWS Signature Version 4:
//
//	Authorization: GW1-HMAC-SHA256 Credential=<access_key>/<yyyymmdd>/<scope>, SignedHeaders=host;x-gw-date, Signature=<hex>
//	X-Gw-Date: 20240501T120000Z
//
// The signature covers the method, path, sorted query, the signed headers and
// the SHA-256 of the body (or UNSIGNED-PAYLOAD when allowed). The date must be
// within clock_skew of the gateway's clock, and each signature is accepted
// once: it is recorded in the gateway's shared KV store with create-if-absent
// and a TTL of twice the skew, so a replay gets 401. README.md specifies the
// algorithm with a worked example and a Go client.
//
//	plugin "hmac-auth" {
//	  source = "bin/plugins/hmac-auth.wasm"
//	  config = {
//	    keys           = { AKEXAMPLE = env("AKEXAMPLE_SECRET") }
//	    scope          = "gateway/gw1_request"
//	    clock_skew     = "5m"
//	    forward_header = "X-Consumer-Key"
//	  }
//	}
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// Keys maps access key ids to their secrets.
	Keys map[string]string `json:"keys"`
	// Scope is the credential scope after the date; default "gateway/gw1_request".
	Scope string `json:"scope"`
	// ClockSkew is the largest accepted difference between X-Gw-Date and the
	// gateway's clock, either way; default "5m".
	ClockSkew string `json:"clock_skew"`
	// AllowUnsignedPayload accepts X-Gw-Content-Sha256: UNSIGNED-PAYLOAD.
	AllowUnsignedPayload bool `json:"allow_unsigned_payload"`
	// SignedHeaders lists headers that must be signed besides host and
	// x-gw-date, e.g. ["content-type"].
	SignedHeaders []string `json:"signed_headers"`
	// ForwardHeader, when set, carries the access key id to the upstream.
	ForwardHeader string `json:"forward_header"`
	// ReplayProtection records signatures in the KV store; default true.
	ReplayProtection *bool `json:"replay_protection"`
}

// maxAuthorization bounds the Authorization header the plugin parses.
const maxAuthorization = 4096

// state is built once per instance; pending is per request (an instance
// serves one request at a time, through all its phases).
var state struct {
	cfg      Config
	skew     time.Duration
	required []string // lowercase header names that must be signed
	replay   bool
	keys     map[string][]byte // "access/day" -> derived signing key

	pending *pendingRequest
}

// pendingRequest is a request whose headers checked out and whose signature
// needs the body's hash.
type pendingRequest struct {
	auth        authorization
	secret      string
	canonical   func(payloadHash string) (string, error)
	date        string // X-Gw-Date
	contentHash string // X-Gw-Content-Sha256 when sent
}

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if len(c.Keys) == 0 {
		return errors.New(`keys: set at least one access key, e.g. keys = { AKEXAMPLE = env("AKEXAMPLE_SECRET") }`)
	}
	for id, secret := range c.Keys {
		if id == "" || strings.ContainsAny(id, "/, =\x00\r\n") {
			return fmt.Errorf("keys: access key %q is empty or contains '/', ',', '=' or whitespace", id)
		}
		if len(secret) < 16 {
			return fmt.Errorf("keys.%s: the secret is shorter than 16 bytes; use at least 32 random bytes", id)
		}
	}
	if c.Scope == "" {
		c.Scope = "gateway/gw1_request"
	}
	for part := range strings.SplitSeq(c.Scope, "/") {
		if part == "" || strings.ContainsAny(part, ", =\x00\r\n") {
			return fmt.Errorf("scope: %q must be non-empty parts separated by '/', without ',', '=' or whitespace", c.Scope)
		}
	}
	skew := 5 * time.Minute
	if c.ClockSkew != "" {
		d, err := time.ParseDuration(c.ClockSkew)
		if err != nil || d < time.Second || d > time.Hour {
			return fmt.Errorf("clock_skew: %q is not a duration between 1s and 1h like \"5m\"", c.ClockSkew)
		}
		skew = d
	}
	required := []string{"host", "x-gw-date"}
	for i, h := range c.SignedHeaders {
		if !isToken(h) {
			return fmt.Errorf("signed_headers[%d]: %q is not a header name", i, h)
		}
		if h = strings.ToLower(h); !slices.Contains(required, h) {
			required = append(required, h)
		}
	}
	if c.ForwardHeader != "" && !isToken(c.ForwardHeader) {
		return fmt.Errorf("forward_header: %q is not a header name", c.ForwardHeader)
	}
	replay := c.ReplayProtection == nil || *c.ReplayProtection
	if replay && plugin.Features()&abi.FeatureKV == 0 {
		return errors.New("replay_protection needs the gateway's shared KV store, which is not configured; configure it, or set replay_protection = false and accept replays within clock_skew")
	}
	state.cfg, state.skew, state.required, state.replay = c, skew, required, replay
	state.keys = map[string][]byte{}
	return nil
}

// authorization is the parsed Authorization header.
type authorization struct {
	accessKey, day, scope string
	signedHeaders         []string
	signature             []byte
}

// parseAuthorization parses "GW1-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	if len(h) > maxAuthorization {
		return a, fmt.Errorf("authorization header of %d bytes is over %d", len(h), maxAuthorization)
	}
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != Algorithm {
		return a, errors.New("authorization scheme is not " + Algorithm)
	}
	var cred, signed, sig string
	for field := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return a, fmt.Errorf("authorization field %s has no '='", quote(field))
		}
		var dst *string
		switch k {
		case "Credential":
			dst = &cred
		case "SignedHeaders":
			dst = &signed
		case "Signature":
			dst = &sig
		default:
			return a, fmt.Errorf("unknown authorization field %s", quote(k))
		}
		if *dst != "" || v == "" {
			return a, fmt.Errorf("authorization field %s is repeated or empty", k)
		}
		*dst = v
	}
	if cred == "" || signed == "" || sig == "" {
		return a, errors.New("authorization needs Credential, SignedHeaders and Signature")
	}
	parts := strings.SplitN(cred, "/", 3)
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 8 {
		return a, errors.New("credential is not <access_key>/<yyyymmdd>/<scope>")
	}
	a.accessKey, a.day, a.scope = parts[0], parts[1], parts[2]
	a.signedHeaders = strings.Split(signed, ";")
	for i, n := range a.signedHeaders {
		if !isToken(n) || n != strings.ToLower(n) || i > 0 && n <= a.signedHeaders[i-1] {
			return a, errors.New("signed headers are not lowercase, sorted and unique")
		}
	}
	if len(sig) != 2*sha256.Size || strings.ToLower(sig) != sig {
		return a, errors.New("signature is not 64 lowercase hex digits")
	}
	var err error
	if a.signature, err = hex.DecodeString(sig); err != nil {
		return a, errors.New("signature is not 64 lowercase hex digits")
	}
	return a, nil
}

// check validates everything the headers carry and returns the pending
// verification. It returns an error for a 401.
func check(req plugin.Request) (*pendingRequest, error) {
	hdr := req.Header()
	raw, ok := hdr.Lookup("Authorization")
	if !ok {
		return nil, errors.New("no authorization header")
	}
	a, err := parseAuthorization(raw)
	if err != nil {
		return nil, err
	}
	secret, ok := state.cfg.Keys[a.accessKey]
	if !ok {
		return nil, fmt.Errorf("unknown access key %s", quote(a.accessKey))
	}
	if a.scope != state.cfg.Scope {
		return nil, fmt.Errorf("access key %s: credential scope %s is not %q", a.accessKey, quote(a.scope), state.cfg.Scope)
	}
	date, ok := hdr.Lookup(DateHeader)
	if !ok {
		return nil, fmt.Errorf("access key %s: no %s header", a.accessKey, DateHeader)
	}
	t, err := time.Parse(DateFormat, date)
	if err != nil {
		return nil, fmt.Errorf("access key %s: %s %s is not ISO 8601 basic like 20240501T120000Z", a.accessKey, DateHeader, quote(date))
	}
	if a.day != date[:8] {
		return nil, fmt.Errorf("access key %s: credential date %s is not the day of %s", a.accessKey, a.day, DateHeader)
	}
	now := plugin.Now()
	if d := now.Sub(t); d > state.skew {
		return nil, fmt.Errorf("access key %s: request signed at %s expired (older than %s)", a.accessKey, date, state.skew)
	} else if -d > state.skew {
		return nil, fmt.Errorf("access key %s: request signed at %s is in the future (more than %s ahead)", a.accessKey, date, state.skew)
	}
	content, hasContent := hdr.Lookup(ContentHeader)
	for _, n := range state.required {
		if !slices.Contains(a.signedHeaders, n) {
			return nil, fmt.Errorf("access key %s: header %s must be signed", a.accessKey, n)
		}
	}
	if hasContent && !slices.Contains(a.signedHeaders, "x-gw-content-sha256") {
		return nil, fmt.Errorf("access key %s: header x-gw-content-sha256 must be signed when sent", a.accessKey)
	}
	values := make([][]string, len(a.signedHeaders))
	for i, n := range a.signedHeaders {
		if n == "host" {
			// header_values does not map Host to the request's host (only
			// header_get does), so read it with Lookup.
			if v, ok := hdr.Lookup("Host"); ok && v != "" {
				values[i] = []string{v}
			}
		} else {
			values[i] = hdr.Values(n)
		}
		if len(values[i]) == 0 {
			return nil, fmt.Errorf("access key %s: signed header %s is not in the request", a.accessKey, n)
		}
	}
	method, path, query := req.Method(), req.Path(), req.Query()
	p := &pendingRequest{auth: a, secret: secret, date: date, canonical: func(payloadHash string) (string, error) {
		return gw1.canonicalRequest(method, path, query, a.signedHeaders, values, payloadHash)
	}}
	if hasContent {
		if content != UnsignedPayload && (len(content) != 2*sha256.Size || strings.ToLower(content) != content) {
			return nil, fmt.Errorf("access key %s: %s is not 64 lowercase hex digits or %s", a.accessKey, ContentHeader, UnsignedPayload)
		}
		if content == UnsignedPayload && !state.cfg.AllowUnsignedPayload {
			return nil, fmt.Errorf("access key %s: %s is not allowed on this route", a.accessKey, UnsignedPayload)
		}
		p.contentHash = content
	}
	return p, nil
}

// verify computes the signature over payloadHash and records it against
// replays. It returns the status to answer with (0 on success).
func verify(p *pendingRequest, payloadHash string) (int, error) {
	a := p.auth
	canonical, err := p.canonical(payloadHash)
	if err != nil {
		return 401, fmt.Errorf("access key %s: %w", a.accessKey, err)
	}
	cacheKey := a.accessKey + "/" + a.day
	key, ok := state.keys[cacheKey]
	if !ok {
		if len(state.keys) >= 256 {
			clear(state.keys)
		}
		key = gw1.signingKey(p.secret, a.day, a.scope)
		state.keys[cacheKey] = key
	}
	m := plugin.HMACSHA256(key, []byte(gw1.stringToSign(p.date, a.day, a.scope, canonical)))
	if !hmac.Equal(m[:], a.signature) {
		return 401, fmt.Errorf("access key %s: signature does not match (wrong secret, or the request was changed)", a.accessKey)
	}
	if !state.replay {
		return 0, nil
	}
	fresh, err := plugin.KVCompareAndSwap("sig:"+hex.EncodeToString(a.signature), nil, []byte{1}, 2*state.skew)
	if err != nil {
		return 503, fmt.Errorf("access key %s: record the signature against replays in the KV store: %w", a.accessKey, err)
	}
	if !fresh {
		return 401, fmt.Errorf("access key %s: signature already used (replayed request)", a.accessKey)
	}
	return 0, nil
}

// finish answers a failed verification or forwards the principal.
func finish(req plugin.Request, p *pendingRequest, status int, err error) plugin.Action {
	switch status {
	case 0:
		req.SetProperty("auth.principal", p.auth.accessKey)
		if state.cfg.ForwardHeader != "" {
			req.Header().Set(state.cfg.ForwardHeader, p.auth.accessKey)
		}
		return plugin.Continue
	case 503:
		plugin.LogError("hmac-auth: " + err.Error())
		return plugin.RespondJSON(503, "Service Unavailable")
	}
	plugin.LogInfo("hmac-auth: " + err.Error())
	return plugin.Unauthorized()
}

func onRequestHeaders(req plugin.Request) plugin.Action {
	state.pending = nil
	if state.cfg.ForwardHeader != "" {
		req.Header().Del(state.cfg.ForwardHeader)
	}
	p, err := check(req)
	if err != nil {
		return finish(req, nil, 401, err)
	}
	if p.contentHash == UnsignedPayload {
		status, err := verify(p, UnsignedPayload)
		return finish(req, p, status, err)
	}
	state.pending = p // the signature covers the body: verify in OnRequestBody
	return plugin.Continue
}

func onRequestBody(req plugin.Request) plugin.Action {
	p := state.pending
	state.pending = nil
	if p == nil {
		return plugin.Continue // verified on headers (UNSIGNED-PAYLOAD)
	}
	body, err := req.BodyView()
	if err != nil {
		return finish(req, p, 503, fmt.Errorf("access key %s: read the request body: %w", p.auth.accessKey, err))
	}
	sum := plugin.SHA256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if p.contentHash != "" && p.contentHash != payloadHash {
		return finish(req, p, 401, fmt.Errorf("access key %s: body does not match %s", p.auth.accessKey, ContentHeader))
	}
	status, err := verify(p, payloadHash)
	return finish(req, p, status, err)
}

// isToken reports an RFC 9110 token (a header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// quote bounds and quotes a client-supplied string for the log.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:      configure,
		OnRequestHeaders: onRequestHeaders,
		OnRequestBody:    onRequestBody,
	})
}

func main() {}
