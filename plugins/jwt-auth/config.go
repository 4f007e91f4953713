package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block (HCL config = {...}, handed over as JSON).
type Config struct {
	// Algorithms allowed in the token header; default every supported one.
	// Keys are typed, so a token is also checked against its key's type.
	Algorithms []string `json:"algorithms"`
	// Keys are inline verification keys.
	Keys []KeyConfig `json:"keys"`
	// JWKS fetches keys from a JSON Web Key Set through a declared upstream.
	JWKS *RemoteConfig `json:"jwks"`
	// OIDC discovers the JWKS from issuer/.well-known/openid-configuration
	// through a declared upstream; it also sets Issuer when that is empty.
	OIDC *RemoteConfig `json:"oidc"`

	// Issuer is the required "iss" claim; "" skips the check.
	Issuer string `json:"issuer"`
	// Audiences: the "aud" claim must contain one of them; empty skips.
	Audiences []string `json:"audiences"`
	// Leeway is the clock skew allowed for exp, nbf and iat (default "30s").
	Leeway string `json:"leeway"`
	// RequireExp rejects tokens without "exp" (default true).
	RequireExp *bool `json:"require_exp"`
	// RequiredClaims must be present in the token.
	RequiredClaims []string `json:"required_claims"`
	// RequiredScopes must all be granted ("scope" space-separated, or "scp").
	RequiredScopes []string `json:"required_scopes"`

	// Token says where the token is read; default Authorization: Bearer.
	Token *TokenSource `json:"token"`
	// MaxTokenBytes rejects longer tokens (default 8192).
	MaxTokenBytes int `json:"max_token_bytes"`
	// ClaimsToHeaders forwards claims upstream: claim name -> header name.
	// Incoming headers with those names are always removed first.
	ClaimsToHeaders map[string]string `json:"claims_to_headers"`

	// Crypto selects where RSA, ECDSA and Ed25519 signatures are checked:
	// "auto" (default: the host when it has crypto_verify), "host" or "guest".
	Crypto string `json:"crypto"`
	// CacheSize is the number of verified tokens remembered per instance
	// (default 256; 0 keeps the default, -1 disables the cache).
	CacheSize int `json:"cache_size"`
}

// KeyConfig is one inline key: exactly one of PEM, JWK, Secret, SecretBase64.
type KeyConfig struct {
	// Kid matches the token's "kid" header; "" matches any token.
	Kid string `json:"kid"`
	// Alg pins the key to one algorithm.
	Alg string `json:"alg"`
	// PEM is a PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE block.
	PEM string `json:"pem"`
	// JWK is a JSON Web Key object (kty RSA, EC, OKP or oct).
	JWK json.RawMessage `json:"jwk"`
	// Secret is an HMAC secret (at least 32 bytes).
	Secret string `json:"secret"`
	// SecretBase64 is an HMAC secret, standard or URL base64.
	SecretBase64 string `json:"secret_base64"`
}

// RemoteConfig locates a JWKS (or an OIDC provider) behind a declared upstream.
type RemoteConfig struct {
	// Upstream is the name of an upstream declared in the gateway config.
	Upstream string `json:"upstream"`
	// Path of the JWKS on the upstream (jwks only), e.g. "/.well-known/jwks.json".
	Path string `json:"path"`
	// Issuer is the OIDC issuer URL (oidc only).
	Issuer string `json:"issuer"`
	// CacheTTL is how long fetched keys are used before a refresh (default "10m").
	CacheTTL string `json:"cache_ttl"`
	// MinRefreshInterval rate-limits refreshes (default "30s"), also those
	// caused by tokens with an unknown kid.
	MinRefreshInterval string `json:"min_refresh_interval"`
	// Timeout bounds one fetch (default "2s").
	Timeout string `json:"timeout"`
}

// TokenSource says where the token is: exactly one field.
type TokenSource struct {
	Header string `json:"header"` // "Authorization" strips a "Bearer " prefix
	Query  string `json:"query"`
	Cookie string `json:"cookie"`
}

// settings is the validated config.
type settings struct {
	algs           map[string]bool
	keys           []*key
	remote         *remote
	issuer         string
	audiences      []string
	leeway         time.Duration
	requireExp     bool
	requiredClaims []string
	requiredScopes []string
	token          TokenSource
	maxToken       int
	claimHeaders   [][2]string // sorted claim, canonical header
	hostCrypto     bool
	cacheSize      int
}

// supportedAlgs lists every algorithm the plugin verifies.
var supportedAlgs = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func duration(field, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a duration like \"30s\"", field, v)
	}
	return d, nil
}

// parseConfig validates raw; hostCrypto says whether the host has crypto_verify.
func parseConfig(raw []byte, hostCrypto bool) (*settings, error) {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return nil, err
	}
	s := &settings{algs: map[string]bool{}, issuer: c.Issuer, audiences: c.Audiences,
		requiredClaims: c.RequiredClaims, requiredScopes: c.RequiredScopes, requireExp: true, maxToken: 8192, cacheSize: 256}
	if c.RequireExp != nil {
		s.requireExp = *c.RequireExp
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = supportedAlgs
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(supportedAlgs, a) {
			return nil, fmt.Errorf("algorithms: %q is not supported; use some of %s", a, strings.Join(supportedAlgs, ", "))
		}
		s.algs[a] = true
	}
	var err error
	if s.leeway, err = duration("leeway", c.Leeway, 30*time.Second); err != nil {
		return nil, err
	}
	for i, kc := range c.Keys {
		k, err := parseKeyConfig(kc)
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		s.keys = append(s.keys, k)
	}
	if c.JWKS != nil && c.OIDC != nil {
		return nil, errors.New("set jwks or oidc, not both; oidc finds the jwks itself")
	}
	if c.JWKS != nil {
		if s.remote, err = newRemote("jwks", c.JWKS, false); err != nil {
			return nil, err
		}
	}
	if c.OIDC != nil {
		if s.remote, err = newRemote("oidc", c.OIDC, true); err != nil {
			return nil, err
		}
		if s.issuer == "" {
			s.issuer = c.OIDC.Issuer
		}
	}
	if len(s.keys) == 0 && s.remote == nil {
		return nil, errors.New("no keys: set keys (PEM, JWK or HMAC secret), jwks or oidc")
	}
	for _, k := range s.keys {
		if !anyAllowed(k, s.algs) {
			return nil, fmt.Errorf("key %q (%s) can verify none of the allowed algorithms; add one to algorithms or remove the key", k.kid, k.kind)
		}
	}
	if c.MaxTokenBytes < 0 {
		return nil, errors.New("max_token_bytes must be positive")
	}
	if c.MaxTokenBytes > 0 {
		s.maxToken = c.MaxTokenBytes
	}
	if err := s.tokenSource(c.Token); err != nil {
		return nil, err
	}
	for claim, h := range c.ClaimsToHeaders {
		if claim == "" || !validHeaderName(h) {
			return nil, fmt.Errorf("claims_to_headers: %q -> %q: map a claim name to a valid header name", claim, h)
		}
		s.claimHeaders = append(s.claimHeaders, [2]string{claim, textproto.CanonicalMIMEHeaderKey(h)})
	}
	slices.SortFunc(s.claimHeaders, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	switch c.Crypto {
	case "", "auto":
		s.hostCrypto = hostCrypto
	case "host":
		if !hostCrypto {
			return nil, errors.New(`crypto: "host" but this gateway has no crypto_verify host function; use "auto" or upgrade the gateway`)
		}
		s.hostCrypto = true
	case "guest":
	default:
		return nil, fmt.Errorf(`crypto: %q must be "auto", "host" or "guest"`, c.Crypto)
	}
	switch {
	case c.CacheSize < -1:
		return nil, errors.New("cache_size must be -1 (off), 0 (default 256) or a positive count")
	case c.CacheSize == -1:
		s.cacheSize = 0
	case c.CacheSize > 0:
		s.cacheSize = c.CacheSize
	}
	return s, nil
}

func (s *settings) tokenSource(t *TokenSource) error {
	if t == nil {
		s.token = TokenSource{Header: "Authorization"}
		return nil
	}
	n := 0
	for _, v := range []string{t.Header, t.Query, t.Cookie} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("token: set exactly one of header, query or cookie")
	}
	if t.Header != "" && !validHeaderName(t.Header) {
		return fmt.Errorf("token: header %q is not a valid header name", t.Header)
	}
	s.token = *t
	return nil
}

func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range []byte(h) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
