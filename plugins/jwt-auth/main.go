// Command jwt-auth is the gateway's JWT/OIDC authorizer plugin. It verifies
// the bearer token of each request (HS*, RS*, PS*, ES*, EdDSA) against keys
// from its config, a JWKS or an OIDC provider, checks its claims and scopes,
// and forwards the principal and claims upstream as headers and to later
// plugins as properties. See README.md for the config reference.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o jwt-auth.wasm ./plugins/jwt-auth
package main

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// state is built by OnConfigure; an instance serves one request at a time.
var state struct {
	s *settings
	// cache is keyed by the token itself: hashing it with SHA-256 cost more
	// than the rest of a cached request (Go's SHA-256 has no assembly in
	// wasm), and the map compares whole keys, so no collision can map one
	// token to another's verdict. At most cacheSize tokens of at most
	// maxToken bytes are kept.
	cache map[string]*cached
}

// cached is a verified token, valid while the remote key set is unchanged.
type cached struct {
	v   *verified
	gen int
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:      configure,
		OnRequestHeaders: onRequestHeaders,
	})
}

func main() {}

func configure(raw []byte) error {
	s, err := parseConfig(raw, plugin.HostCrypto())
	if err != nil {
		return err
	}
	state.s = s
	state.cache = make(map[string]*cached, s.cacheSize)
	return nil
}

func onRequestHeaders(req plugin.Request) plugin.Action {
	s := state.s
	hdr := req.Header()
	for _, ch := range s.claimHeaders {
		hdr.Del(ch[1]) // clients must not forge forwarded claims
	}
	raw, where := s.extract(req)
	if raw == "" {
		return reject(unauthorized("no token in %s", where))
	}
	v, aerr := s.authenticate(raw, plugin.Now())
	if aerr != nil {
		return reject(aerr)
	}
	for _, h := range v.headers {
		hdr.Set(h[0], h[1])
	}
	if v.sub != "" {
		req.SetProperty("auth.principal", v.sub)
	}
	for _, p := range v.props {
		req.SetProperty(p[0], p[1])
	}
	return plugin.Continue
}

// authenticate verifies raw at now, using the verified-token cache.
func (s *settings) authenticate(raw string, now time.Time) (*verified, *authError) {
	if s.remote != nil {
		s.remote.ensure(now) // a refresh changes gen, which invalidates cached tokens
	}
	if s.cacheSize > 0 && len(raw) <= s.maxToken {
		if c, ok := state.cache[raw]; ok && (s.remote == nil || c.gen == s.remote.gen) {
			if aerr := s.checkTime(c.v, now); aerr != nil {
				delete(state.cache, raw)
				return nil, aerr
			}
			return c.v, s.checkScopes(c.v)
		}
	}
	t, err := parseToken(raw, s.maxToken)
	if err != nil {
		return nil, err.(*authError)
	}
	alg := t.header.Alg
	if !s.algs[alg] {
		return nil, unauthorized("token alg %q is not allowed", alg)
	}
	if aerr := s.verifySignature(t, now); aerr != nil {
		return nil, aerr
	}
	v, aerr := s.check(t.payload)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.checkTime(v, now); aerr != nil {
		return nil, aerr
	}
	if s.cacheSize > 0 {
		if len(state.cache) >= s.cacheSize {
			clear(state.cache)
		}
		gen := 0
		if s.remote != nil {
			gen = s.remote.gen
		}
		state.cache[strings.Clone(raw)] = &cached{v: v, gen: gen}
	}
	return v, s.checkScopes(v)
}

// candidates returns the keys that may verify t: a matching kid (a token or
// key without kid matches any) and a type that suits the token's alg.
func (s *settings) candidates(t *token) []*key {
	var out []*key
	add := func(keys []*key) {
		for _, k := range keys {
			if (t.header.Kid == "" || k.kid == "" || k.kid == t.header.Kid) && k.allows(t.header.Alg) {
				out = append(out, k)
			}
		}
	}
	add(s.keys)
	if s.remote != nil {
		add(s.remote.keys)
	}
	return out
}

// verifySignature finds the token's key, refreshing remote keys when the
// kid is unknown (rate-limited), and checks the signature.
func (s *settings) verifySignature(t *token, now time.Time) *authError {
	cands := s.candidates(t)
	if len(cands) == 0 && s.remote != nil && t.header.Kid != "" {
		err := s.remote.refresh(now, s.remote.minRefresh)
		switch {
		case errors.Is(err, errRateLimited):
		case err != nil:
			plugin.LogWarn("jwt-auth: refresh keys for unknown kid: " + err.Error())
		}
		cands = s.candidates(t)
	}
	if len(cands) == 0 {
		return unauthorized("no key with kid %q verifies %s", t.header.Kid, t.header.Alg)
	}
	for _, k := range cands {
		err := verifySig(t, k, s.hostCrypto)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errBadSignature) {
			plugin.LogWarn("jwt-auth: verify with key " + k.kid + ": " + err.Error())
		}
	}
	return unauthorized("signature does not verify (kid %q, alg %s)", t.header.Kid, t.header.Alg)
}

// extract returns the token and, when there is none, where it was looked for.
func (s *settings) extract(req plugin.Request) (string, string) {
	switch {
	case s.token.Query != "":
		q, err := url.ParseQuery(req.Query())
		if err != nil {
			return "", "query parameter " + s.token.Query
		}
		return q.Get(s.token.Query), "query parameter " + s.token.Query
	case s.token.Cookie != "":
		for _, line := range req.Header().Values("Cookie") {
			for _, part := range strings.Split(line, ";") {
				name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
				if ok && name == s.token.Cookie {
					return strings.Trim(val, `"`), ""
				}
			}
		}
		return "", "cookie " + s.token.Cookie
	}
	v := strings.TrimSpace(req.Header().Get(s.token.Header))
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	} else if strings.EqualFold(s.token.Header, "Authorization") {
		v = "" // another scheme (Basic, ...) is not a bearer token
	}
	return v, "header " + s.token.Header
}

// reject answers 401 or 403 with no detail, logging the reason (never the token).
func reject(e *authError) plugin.Action {
	reason := e.reason
	if len(reason) > 300 {
		reason = reason[:300] + "..."
	}
	if e.status == 403 {
		plugin.LogWarn("jwt-auth: forbidden: " + reason)
		return plugin.Forbidden()
	}
	plugin.LogWarn("jwt-auth: unauthorized: " + reason)
	plugin.Response{}.Header().Set("WWW-Authenticate", "Bearer")
	return plugin.Unauthorized()
}
