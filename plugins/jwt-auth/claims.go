package main

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
)

// claims are a verified token's claims, raw.
type claims map[string]json.RawMessage

// verified is what a successful verification yields; it is cached by token.
type verified struct {
	claims  claims
	sub     string
	exp     float64 // NaN when absent
	nbf     float64 // NaN when absent
	iat     float64 // NaN when absent
	scopes  []string
	headers [][2]string // header name, value
	props   [][2]string // property key, value
}

func (c claims) str(name string) (string, bool) {
	raw, ok := c[name]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// date reads a NumericDate; NaN when absent, an error when not a number.
func (c claims) date(name string) (float64, *authError) {
	raw, ok := c[name]
	if !ok || string(raw) == "null" {
		return math.NaN(), nil
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsInf(f, 0) {
		return 0, unauthorized("claim %s is not a NumericDate", name)
	}
	return f, nil
}

// text renders a claim for a header or property: strings as they are, other
// JSON values compactly encoded.
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// check validates the claims of a token whose signature was verified.
func (s *settings) check(payload []byte) (*verified, *authError) {
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil || c == nil {
		return nil, unauthorized("token payload is not a JSON object")
	}
	v := &verified{claims: c}
	var aerr *authError
	if v.exp, aerr = c.date("exp"); aerr != nil {
		return nil, aerr
	}
	if v.nbf, aerr = c.date("nbf"); aerr != nil {
		return nil, aerr
	}
	if v.iat, aerr = c.date("iat"); aerr != nil {
		return nil, aerr
	}
	if math.IsNaN(v.exp) && s.requireExp {
		return nil, unauthorized("token has no exp and require_exp is set")
	}
	if s.issuer != "" {
		if iss, _ := c.str("iss"); iss != s.issuer {
			return nil, unauthorized("token iss %q is not %q", iss, s.issuer)
		}
	}
	if len(s.audiences) > 0 && !s.audienceOK(c) {
		return nil, unauthorized("token aud does not contain any of %q", s.audiences)
	}
	for _, name := range s.requiredClaims {
		if raw, ok := c[name]; !ok || string(raw) == "null" {
			return nil, unauthorized("token lacks required claim %q", name)
		}
	}
	v.sub, _ = c.str("sub")
	v.scopes = scopes(c)
	for _, ch := range s.claimHeaders {
		if raw, ok := c[ch[0]]; ok {
			if val := text(raw); !strings.ContainsAny(val, "\r\n\x00") {
				v.headers = append(v.headers, [2]string{ch[1], val})
			}
		}
	}
	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v.props = append(v.props, [2]string{"auth.claims." + name, text(c[name])})
	}
	return v, nil
}

// checkTime validates exp, nbf (and, when present, iat) at now.
func (s *settings) checkTime(v *verified, now time.Time) *authError {
	t := float64(now.UnixNano()) / 1e9
	lee := s.leeway.Seconds()
	if !math.IsNaN(v.exp) && t > v.exp+lee {
		return unauthorized("token expired at %s", time.Unix(int64(v.exp), 0).UTC().Format(time.RFC3339))
	}
	if !math.IsNaN(v.nbf) && t+lee < v.nbf {
		return unauthorized("token not valid before %s", time.Unix(int64(v.nbf), 0).UTC().Format(time.RFC3339))
	}
	if !math.IsNaN(v.iat) && t+lee < v.iat {
		return unauthorized("token issued in the future (iat %s)", time.Unix(int64(v.iat), 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// checkScopes returns a 403 when a required scope is missing.
func (s *settings) checkScopes(v *verified) *authError {
	for _, want := range s.requiredScopes {
		if !slices.Contains(v.scopes, want) {
			return &authError{status: 403, reason: "token lacks required scope " + want}
		}
	}
	return nil
}

func (s *settings) audienceOK(c claims) bool {
	raw, ok := c["aud"]
	if !ok {
		return false
	}
	var list []string
	var one string
	if json.Unmarshal(raw, &one) == nil {
		list = []string{one}
	} else if json.Unmarshal(raw, &list) != nil {
		return false
	}
	for _, a := range list {
		if slices.Contains(s.audiences, a) {
			return true
		}
	}
	return false
}

// scopes reads "scope" (space-separated string, OAuth 2) and "scp" (array or
// string, Azure AD / Okta).
func scopes(c claims) []string {
	var out []string
	if s, ok := c.str("scope"); ok {
		out = append(out, strings.Fields(s)...)
	}
	if raw, ok := c["scp"]; ok {
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			out = append(out, list...)
		} else if s, ok := c.str("scp"); ok {
			out = append(out, strings.Fields(s)...)
		}
	}
	return out
}
