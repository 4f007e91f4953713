package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

func bearer(tok string) *plugintest.Request {
	return &plugintest.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}}
}

// allKeysConfig configures one inline key of every type.
func allKeysConfig(t *testing.T, k *testKeys, extra map[string]any) string {
	cfg := map[string]any{
		"issuer": "https://idp.test", "audiences": []string{"api"},
		"keys": []map[string]any{
			{"kid": "rsa", "pem": pemOf(t, &k.rsa.PublicKey)},
			{"kid": "p256", "jwk": jwkOf(&k.p256.PublicKey, "")},
			{"kid": "p384", "pem": pemOf(t, &k.p384.PublicKey)},
			{"kid": "p521", "jwk": jwkOf(&k.p521.PublicKey, "")},
			{"kid": "ed", "pem": pemOf(t, k.ed.Public())},
			{"kid": "hs", "secret": string(k.secret)},
		},
	}
	for key, v := range extra {
		cfg[key] = v
	}
	return jsonOf(t, cfg)
}

func TestAlgorithms(t *testing.T) {
	k := genKeys()
	now := time.Now()
	tests := []struct {
		name string
		m    jwt.SigningMethod
		key  any
		kid  string
	}{
		{"HS256", jwt.SigningMethodHS256, k.secret, "hs"},
		{"HS384", jwt.SigningMethodHS384, k.secret, "hs"},
		{"HS512", jwt.SigningMethodHS512, k.secret, "hs"},
		{"RS256", jwt.SigningMethodRS256, k.rsa, "rsa"},
		{"RS384", jwt.SigningMethodRS384, k.rsa, "rsa"},
		{"RS512", jwt.SigningMethodRS512, k.rsa, "rsa"},
		{"PS256", jwt.SigningMethodPS256, k.rsa, "rsa"},
		{"PS384", jwt.SigningMethodPS384, k.rsa, "rsa"},
		{"PS512", jwt.SigningMethodPS512, k.rsa, "rsa"},
		{"ES256", jwt.SigningMethodES256, k.p256, "p256"},
		{"ES384", jwt.SigningMethodES384, k.p384, "p384"},
		{"ES512", jwt.SigningMethodES512, k.p521, "p521"},
		{"EdDSA", jwt.SigningMethodEdDSA, k.ed, "ed"},
		{"no kid tries every key of the type", jwt.SigningMethodRS256, k.rsa, ""},
	}
	for _, crypto := range []string{"guest", "host"} {
		for _, tc := range tests {
			t.Run(crypto+"/"+tc.name, func(t *testing.T) {
				h := plugintest.NewUnconfigured(t, allKeysConfig(t, k, map[string]any{"crypto": crypto, "cache_size": -1}))
				calls := 0
				if crypto == "host" {
					h.Crypto = hostVerifier(&calls)
				}
				require.NoError(t, h.Configure())
				res := h.Do(bearer(sign(t, tc.m, tc.key, tc.kid, valid(now))))
				require.True(t, res.UpstreamCalled, "logs: %v", h.Logs)
				assert.Equal(t, "alice", res.Request.Properties["auth.principal"])
				if crypto == "host" && !strings.HasPrefix(tc.name, "HS") {
					assert.Positive(t, calls, "asymmetric signatures are checked by the host")
				} else {
					assert.Zero(t, calls)
				}
			})
		}
	}
}

func TestAttacks(t *testing.T) {
	k := genKeys()
	now := time.Now()
	claims := valid(now)
	good := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", claims)
	parts := strings.Split(good, ".")
	payload, _ := json.Marshal(claims)
	hsp := func(secret []byte, header, payload string) string {
		signed := b64u([]byte(header)) + "." + b64u([]byte(payload))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(signed))
		return signed + "." + b64u(m.Sum(nil))
	}
	hs := func(secret []byte, header string) string { return hsp(secret, header, string(payload)) }
	tampered := jwt.MapClaims{}
	for key, v := range claims {
		tampered[key] = v
	}
	tampered["sub"] = "admin"
	tamperedPayload, _ := json.Marshal(tampered)
	noExp := valid(now)
	delete(noExp, "exp")
	with := func(key string, v any) jwt.MapClaims {
		c := valid(now)
		c[key] = v
		return c
	}
	tests := []struct {
		name, token string
		expLog      string
	}{
		{"alg none", raw(`{"alg":"none"}`, string(payload), nil)[:len(raw(`{"alg":"none"}`, string(payload), nil))], "empty segment"},
		{"alg none with signature", raw(`{"alg":"none"}`, string(payload), []byte("x")), `alg "none" is refused`},
		{"alg None", raw(`{"alg":"None","kid":"rsa"}`, string(payload), []byte("x")), `alg "None" is refused`},
		{"alg NONE", raw(`{"alg":"NONE"}`, string(payload), []byte("x")), `alg "NONE" is refused`},
		{"HS/RS confusion: RSA public key PEM as HMAC secret", hs([]byte(pemOf(t, &k.rsa.PublicKey)), `{"alg":"HS256","kid":"rsa"}`), `no key with kid "rsa" verifies HS256`},
		{"HS/RS confusion without kid", hs([]byte(pemOf(t, &k.rsa.PublicKey)), `{"alg":"HS256"}`), "signature does not verify"},
		{"alg not allowed", sign(t, jwt.SigningMethodRS512, k.rsa, "rsa", claims), `alg "RS512" is not allowed`},
		{"unknown alg", raw(`{"alg":"RS1"}`, string(payload), []byte("x")), `alg "RS1" is not allowed`},
		{"missing exp", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", noExp), "no exp"},
		{"expired", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with("exp", now.Add(-time.Hour).Unix())), "expired"},
		{"not yet valid", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with("nbf", now.Add(time.Hour).Unix())), "not valid before"},
		{"issued in the future", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with("iat", now.Add(time.Hour).Unix())), "issued in the future"},
		{"exp not a number", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with("exp", "tomorrow")), "not a NumericDate"},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with("iss", "https://evil.test")), "iss"},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with("aud", []string{"other"})), "aud"},
		{"missing required claim", sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", with("tenant", nil)), `required claim "tenant"`},
		{"valid token control", good, ""},
		{"tampered payload", parts[0] + "." + b64u(tamperedPayload) + "." + parts[2], "signature does not verify"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64u([]byte("garbage")), "signature does not verify"},
		{"signature from another key", sign(t, jwt.SigningMethodRS256, k.rsa2, "rsa", claims), "signature does not verify"},
		{"ES384 header on a P-256 key", raw(`{"alg":"ES384","kid":"p256"}`, string(payload), make([]byte, 96)), `no key with kid "p256" verifies ES384`},
		{"two segments", parts[0] + "." + parts[1], "three dot-separated"},
		{"four segments", good + ".x", "three dot-separated"},
		{"JWE-like five segments", "a.b.c.d.e", "three dot-separated"},
		{"header not base64url", "%%%." + parts[1] + "." + parts[2], "header is not base64url"},
		{"padded signature", good + "=", "signature is not base64url"},
		{"header not JSON", b64u([]byte("nope")) + "." + parts[1] + "." + parts[2], "not a JSON object"},
		{"payload not a JSON object", hsp(k.secret, `{"alg":"HS256","kid":"hs"}`, "[1]"), "payload is not a JSON object"},
		{"payload null", hsp(k.secret, `{"alg":"HS256","kid":"hs"}`, "null"), "payload is not a JSON object"},
		{"crit header", raw(`{"alg":"RS256","kid":"rsa","crit":["b64"],"b64":false}`, string(payload), []byte("x")), "crit"},
		{"oversize token", good + strings.Repeat("A", 9000), "over max_token_bytes 8192"},
		{"kid path traversal", raw(`{"alg":"RS256","kid":"../../etc/passwd"}`, string(payload), []byte("x")), `no key with kid "../../etc/passwd"`},
		{"jku and x5u are ignored", raw(`{"alg":"RS256","kid":"evil","jku":"https://evil.test/jwks","x5u":"https://evil.test/cert"}`, string(payload), []byte("x")), `no key with kid "evil"`},
		{"embedded jwk is ignored", raw(`{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}`, string(payload), []byte("x")), "signature does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, allKeysConfig(t, k, map[string]any{
				"algorithms": []string{"HS256", "RS256", "ES256", "ES384", "ES512", "EdDSA"}, "required_claims": []string{"sub", "tenant"},
			}))
			h.HTTP = func(string, *http.Request) *http.Response {
				t.Errorf("the plugin made an HTTP call for a token")
				return nil
			}
			res := h.Do(bearer(tc.token))
			if tc.expLog == "" {
				assert.True(t, res.UpstreamCalled, "the control token passes: %v", h.Logs)
				return
			}
			assert.False(t, res.UpstreamCalled)
			assert.Equal(t, 401, res.Status)
			assert.JSONEq(t, `{"message":"Unauthorized"}`, string(res.Body))
			assert.Equal(t, "Bearer", res.Header.Get("WWW-Authenticate"))
			require.NotEmpty(t, h.Logs)
			last := h.Logs[len(h.Logs)-1]
			assert.Equal(t, abi.LogLevelWarn, last.Level)
			assert.Contains(t, last.Message, tc.expLog)
			for _, l := range h.Logs {
				if len(tc.token) > 20 {
					assert.NotContains(t, l.Message, tc.token[len(tc.token)-20:], "the token is never logged")
				}
			}
		})
	}
}

func TestMissingCredentials(t *testing.T) {
	k := genKeys()
	tests := []struct {
		name   string
		header http.Header
	}{
		{"no header", nil},
		{"basic scheme", http.Header{"Authorization": {"Basic YWxpY2U6c2VjcmV0"}}},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, allKeysConfig(t, k, nil))
			res := h.Do(&plugintest.Request{Header: tc.header})
			assert.Equal(t, 401, res.Status)
			assert.Equal(t, "Bearer", res.Header.Get("WWW-Authenticate"))
		})
	}
}

func TestScopes(t *testing.T) {
	k := genKeys()
	now := time.Now()
	with := func(key string, v any) string {
		c := valid(now)
		c[key] = v
		return sign(t, jwt.SigningMethodHS256, k.secret, "hs", c)
	}
	tests := []struct {
		name, token string
		exp         int
	}{
		{"scope string has both", with("scope", "openid orders:read orders:write"), 200},
		{"scp array has both", with("scp", []string{"orders:read", "orders:write"}), 200},
		{"scp string", with("scp", "orders:read orders:write"), 200},
		{"one missing", with("scope", "orders:read"), 403},
		{"no scope claim", sign(t, jwt.SigningMethodHS256, k.secret, "hs", valid(now)), 403},
		{"prefix is not a match", with("scope", "orders:readx orders:write"), 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, allKeysConfig(t, k, map[string]any{"required_scopes": []string{"orders:read", "orders:write"}}))
			res := h.Do(bearer(tc.token))
			assert.Equal(t, tc.exp, res.Status)
			if tc.exp == 403 {
				assert.JSONEq(t, `{"message":"Forbidden"}`, string(res.Body))
				assert.Contains(t, h.Logs[len(h.Logs)-1].Message, "lacks required scope")
			}
		})
	}
}

func TestClaimsForwarded(t *testing.T) {
	k := genKeys()
	c := valid(time.Now())
	c["email"], c["groups"] = "alice@example.com", []string{"a", "b"}
	delete(c, "tenant")
	h := plugintest.New(t, allKeysConfig(t, k, map[string]any{
		"claims_to_headers": map[string]string{"sub": "X-User", "email": "x-user-email", "groups": "X-Groups", "tenant": "X-Tenant"},
	}))
	req := bearer(sign(t, jwt.SigningMethodES256, k.p256, "p256", c))
	req.Header.Set("X-User", "forged")
	req.Header.Set("X-Tenant", "forged")
	res := h.Do(req)
	require.True(t, res.UpstreamCalled)
	assert.Equal(t, []string{"alice"}, res.Request.Header.Values("X-User"))
	assert.Equal(t, "alice@example.com", res.Request.Header.Get("X-User-Email"))
	assert.Equal(t, `["a","b"]`, res.Request.Header.Get("X-Groups"))
	assert.Empty(t, res.Request.Header.Values("X-Tenant"), "forged header stripped even when the claim is absent")
	assert.Equal(t, "alice", res.Request.Properties["auth.principal"])
	assert.Equal(t, "alice@example.com", res.Request.Properties["auth.claims.email"])
	assert.Equal(t, "https://idp.test", res.Request.Properties["auth.claims.iss"])

	// A rejected request keeps none of the forged headers either.
	req = &plugintest.Request{Header: http.Header{"X-User": {"forged"}}}
	res = h.Do(req)
	assert.Equal(t, 401, res.Status)
	assert.Empty(t, req.Header.Values("X-User"))
}

func TestTokenSources(t *testing.T) {
	k := genKeys()
	tok := sign(t, jwt.SigningMethodHS256, k.secret, "hs", valid(time.Now()))
	tests := []struct {
		name   string
		source map[string]string
		req    *plugintest.Request
		exp    int
	}{
		{"custom header raw", map[string]string{"header": "X-Token"}, &plugintest.Request{Header: http.Header{"X-Token": {tok}}}, 200},
		{"custom header with bearer", map[string]string{"header": "X-Token"}, &plugintest.Request{Header: http.Header{"X-Token": {"bearer " + tok}}}, 200},
		{"custom header ignores Authorization", map[string]string{"header": "X-Token"}, bearer(tok), 401},
		{"query", map[string]string{"query": "access_token"}, &plugintest.Request{Query: "a=1&access_token=" + tok}, 200},
		{"query missing", map[string]string{"query": "access_token"}, &plugintest.Request{Query: "token=" + tok}, 401},
		{"cookie", map[string]string{"cookie": "session"}, &plugintest.Request{Header: http.Header{"Cookie": {"theme=dark; session=" + tok}}}, 200},
		{"cookie name prefix is not a match", map[string]string{"cookie": "session"}, &plugintest.Request{Header: http.Header{"Cookie": {"xsession=" + tok}}}, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, allKeysConfig(t, k, map[string]any{"token": tc.source}))
			assert.Equal(t, tc.exp, h.Do(tc.req).Status)
		})
	}
}

func TestTimeLeewayAndCache(t *testing.T) {
	k := genKeys()
	now := time.Now()
	c := valid(now)
	c["exp"] = now.Add(time.Minute).Unix()
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c)
	h := plugintest.New(t, allKeysConfig(t, k, map[string]any{"leeway": "10s"}))
	clock := now
	h.Now = func() time.Time { return clock }
	assert.Equal(t, 200, h.Do(bearer(tok)).Status)
	clock = now.Add(time.Minute + 5*time.Second) // past exp, within leeway
	assert.Equal(t, 200, h.Do(bearer(tok)).Status, "served from the verified-token cache")
	clock = now.Add(time.Minute + 11*time.Second)
	assert.Equal(t, 401, h.Do(bearer(tok)).Status, "the cache re-checks exp")
	assert.Contains(t, h.Logs[len(h.Logs)-1].Message, "expired")

}

func TestRequireExpOff(t *testing.T) {
	k := genKeys()
	c := valid(time.Now())
	delete(c, "exp")
	h := plugintest.New(t, allKeysConfig(t, k, map[string]any{"require_exp": false}))
	assert.Equal(t, 200, h.Do(bearer(sign(t, jwt.SigningMethodRS256, k.rsa, "rsa", c))).Status)
}

func TestConfig(t *testing.T) {
	k := genKeys()
	pemRSA := pemOf(t, &k.rsa.PublicKey)
	tests := []struct {
		name, in, expErr string
	}{
		{"no keys", `{}`, "no keys: set keys (PEM, JWK or HMAC secret), jwks or oidc"},
		{"unknown field", `{"keyz":[]}`, `decode config: json: unknown field "keyz"`},
		{"unknown algorithm", `{"algorithms":["none"],"keys":[{"secret":"` + string(k.secret) + `"}]}`, `algorithms: "none" is not supported; use some of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA`},
		{"short hmac secret", `{"keys":[{"secret":"short"}]}`, "keys[0]: hmac secret has 5 bytes; use at least 32 random bytes"},
		{"two key forms", jsonOf(t, map[string]any{"keys": []map[string]any{{"secret": string(k.secret), "pem": pemRSA}}}), "keys[0]: set exactly one of pem, jwk, secret or secret_base64"},
		{"private key pem", `{"keys":[{"pem":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}]}`, `keys[0]: pem: block type "PRIVATE KEY" is not a public key; use PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE (never a private key)`},
		{"not pem", `{"keys":[{"pem":"hello"}]}`, "keys[0]: pem: no PEM block found; paste a -----BEGIN PUBLIC KEY----- block"},
		{"jwk private", `{"keys":[{"jwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA","d":"AAAA"}}]}`, "keys[0]: jwk: this is a private key; configure the public key only"},
		{"jwk bad point", `{"keys":[{"jwk":{"kty":"EC","crv":"P-256","x":"` + b64u(make([]byte, 32)) + `","y":"` + b64u(make([]byte, 32)) + `"}}]}`, "keys[0]: jwk: point is not on P-256"},
		{"alg does not suit key", jsonOf(t, map[string]any{"keys": []map[string]any{{"pem": pemRSA, "alg": "HS256"}}}), `keys[0]: alg "HS256" does not suit a RSA key`},
		{"key unusable with algorithms", jsonOf(t, map[string]any{"algorithms": []string{"HS256"}, "keys": []map[string]any{{"kid": "r", "pem": pemRSA}}}), `key "r" (RSA) can verify none of the allowed algorithms; add one to algorithms or remove the key`},
		{"bad leeway", `{"leeway":"soon","keys":[{"secret":"` + string(k.secret) + `"}]}`, `leeway: "soon" is not a duration like "30s"`},
		{"two token sources", `{"token":{"header":"A","query":"b"},"keys":[{"secret":"` + string(k.secret) + `"}]}`, "token: set exactly one of header, query or cookie"},
		{"bad claim header", `{"claims_to_headers":{"sub":"X User"},"keys":[{"secret":"` + string(k.secret) + `"}]}`, `claims_to_headers: "sub" -> "X User": map a claim name to a valid header name`},
		{"jwks without upstream", `{"jwks":{"path":"/jwks"}}`, "jwks: set upstream to the name of an upstream block that reaches the key server"},
		{"jwks bad path", `{"jwks":{"upstream":"idp","path":"jwks"}}`, `jwks: path "jwks" must start with /, like "/.well-known/jwks.json"`},
		{"oidc bad issuer", `{"oidc":{"upstream":"idp","issuer":"idp.test"}}`, `oidc: issuer "idp.test" must be an http(s) URL without query, like "https://idp.example.com/realms/main"`},
		{"jwks and oidc", `{"jwks":{"upstream":"a","path":"/j"},"oidc":{"upstream":"a","issuer":"https://i"}}`, "set jwks or oidc, not both; oidc finds the jwks itself"},
		{"host crypto forced", `{"crypto":"host","keys":[{"secret":"` + string(k.secret) + `"}]}`, `crypto: "host" but this gateway has no crypto_verify host function; use "auto" or upgrade the gateway`},
		{"bad crypto", `{"crypto":"gpu","keys":[{"secret":"` + string(k.secret) + `"}]}`, `crypto: "gpu" must be "auto", "host" or "guest"`},
		{"ok jwks", `{"jwks":{"upstream":"idp","path":"/jwks","min_refresh_interval":"1m"}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugintest.NewUnconfigured(t, tc.in).Configure()
			if tc.expErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.expErr)
		})
	}
}

// jwksServer is a fake key server answering http_call.
type jwksServer struct {
	t      *testing.T
	keys   []map[string]any
	calls  map[string]int
	issuer string
}

func (s *jwksServer) handle(upstream string, r *http.Request) *http.Response {
	assert.Equal(s.t, "idp", upstream)
	s.calls[r.URL.Path]++
	var body string
	switch r.URL.Path {
	case "/realms/main/.well-known/openid-configuration":
		body = jsonOf(s.t, map[string]any{"issuer": s.issuer, "jwks_uri": strings.TrimSuffix(s.issuer, "/realms/main") + "/certs?v=1"})
	case "/certs", "/jwks":
		body = jsonOf(s.t, map[string]any{"keys": s.keys})
	default:
		return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader(""))}
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
}

func TestJWKSRotationAndRateLimit(t *testing.T) {
	k := genKeys()
	now := time.Now()
	srv := &jwksServer{t: t, calls: map[string]int{}, keys: []map[string]any{
		jwkOf(&k.rsa.PublicKey, "k1"),
		{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
		{"kty": "oct", "kid": "sym", "k": b64u(k.secret)},
	}}
	h := plugintest.New(t, `{"jwks":{"upstream":"idp","path":"/jwks","min_refresh_interval":"1m","cache_ttl":"10m"}}`)
	h.HTTP = srv.handle
	clock := now
	h.Now = func() time.Time { return clock }
	tok1 := sign(t, jwt.SigningMethodRS256, k.rsa, "k1", valid(now))
	tok2 := sign(t, jwt.SigningMethodRS256, k.rsa2, "k2", valid(now))
	hsSym := sign(t, jwt.SigningMethodHS256, k.secret, "sym", valid(now))

	assert.Equal(t, 200, h.Do(bearer(tok1)).Status)
	assert.Equal(t, 1, srv.calls["/jwks"])
	assert.Equal(t, 401, h.Do(bearer(hsSym)).Status, "symmetric keys from a JWKS are never used")

	// Rotation: k2 appears, k1 is retired.
	srv.keys = []map[string]any{jwkOf(&k.rsa2.PublicKey, "k2")}
	assert.Equal(t, 401, h.Do(bearer(tok2)).Status, "unknown kid within the refresh interval: no fetch")
	assert.Equal(t, 401, h.Do(bearer(sign(t, jwt.SigningMethodRS256, k.rsa2, "k3", valid(now)))).Status)
	assert.Equal(t, 1, srv.calls["/jwks"], "refreshes are rate-limited")

	clock = now.Add(61 * time.Second)
	assert.Equal(t, 200, h.Do(bearer(tok2)).Status, "unknown kid after the interval refreshes")
	assert.Equal(t, 2, srv.calls["/jwks"])
	assert.Equal(t, 401, h.Do(bearer(tok1)).Status, "a retired key stops verifying, even for a cached token")
	assert.Equal(t, 2, srv.calls["/jwks"])

	clock = now.Add(12 * time.Minute)
	assert.Equal(t, 200, h.Do(bearer(tok2)).Status)
	assert.Equal(t, 3, srv.calls["/jwks"], "the cache TTL expired")

	// Another instance of the same plugin (fresh globals after Configure)
	// shares the fetched set through KV.
	require.NoError(t, h.Configure())
	assert.Equal(t, 200, h.Do(bearer(tok2)).Status)
	assert.Equal(t, 3, srv.calls["/jwks"], "a new instance used the shared copy")
}

func TestOIDCDiscovery(t *testing.T) {
	k := genKeys()
	now := time.Now()
	c := valid(now)
	c["iss"] = "https://idp.test/realms/main"
	tok := sign(t, jwt.SigningMethodES256, k.p256, "ec1", c)
	tests := []struct {
		name, issuer string
		exp          int
		expLog       string
	}{
		{"discovers jwks_uri on the issuer origin", "https://idp.test/realms/main", 200, ""},
		{"metadata issuer mismatch", "https://other.test/realms/main", 401, `issuer "https://other.test/realms/main" in the metadata`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &jwksServer{t: t, calls: map[string]int{}, issuer: tc.issuer, keys: []map[string]any{jwkOf(&k.p256.PublicKey, "ec1")}}
			h := plugintest.New(t, `{"oidc":{"upstream":"idp","issuer":"https://idp.test/realms/main"}}`)
			h.HTTP = srv.handle
			res := h.Do(bearer(tok))
			assert.Equal(t, tc.exp, res.Status, "logs: %v", h.Logs)
			if tc.exp == 200 {
				assert.Equal(t, 1, srv.calls["/certs"])
				return
			}
			assert.Zero(t, srv.calls["/certs"])
			assert.Contains(t, h.Logs[0].Message, tc.expLog)
		})
	}

	t.Run("jwks_uri on another origin is refused", func(t *testing.T) {
		srv := &jwksServer{t: t, calls: map[string]int{}, keys: []map[string]any{jwkOf(&k.p256.PublicKey, "ec1")}}
		h := plugintest.New(t, `{"oidc":{"upstream":"idp","issuer":"https://idp.test/realms/main"}}`)
		h.HTTP = func(up string, r *http.Request) *http.Response {
			if strings.HasSuffix(r.URL.Path, "openid-configuration") {
				body := `{"issuer":"https://idp.test/realms/main","jwks_uri":"https://evil.test/certs"}`
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body))}
			}
			return srv.handle(up, r)
		}
		assert.Equal(t, 401, h.Do(bearer(tok)).Status)
		assert.Zero(t, srv.calls["/certs"])
		assert.Contains(t, h.Logs[0].Message, `jwks_uri "https://evil.test/certs" is not on the issuer's origin`)
	})
}
