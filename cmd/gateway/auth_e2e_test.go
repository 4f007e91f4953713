package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// TestAuthPluginsThroughGateway runs the first-party security plugins in the
// real binary: key-auth, jwt-auth (RS256 with a key made here), cors in front
// of an auth plugin, and ip-restriction with trusted proxies.
func TestAuthPluginsThroughGateway(t *testing.T) {
	be := echoBackend(t, "be")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	apiKey := "k3y-for-e2e-tests-0123456789"
	sum := sha256.Sum256([]byte(apiKey))

	vars := map[string]string{
		"BACKEND":  be.URL,
		"KEY_AUTH": wasmtest.Build(t, "../../plugins/key-auth"),
		"JWT_AUTH": wasmtest.Build(t, "../../plugins/jwt-auth"),
		"CORS":     wasmtest.Build(t, "../../plugins/cors"),
		"IP":       wasmtest.Build(t, "../../plugins/ip-restriction"),
		"KEY_HASH": hex.EncodeToString(sum[:]),
		"PUB_PEM":  strings.ReplaceAll(pubPEM, "\n", "\\n"),
	}
	cfg := `
gateway {
  listen          = ["127.0.0.1:0"]
  admin_listen    = "127.0.0.1:0"
  trusted_proxies = ["127.0.0.1/32"]
}
plugin "apikey" {
  source = "${KEY_AUTH}"
  config = {
    keys = [{ consumer = "acme", key_sha256 = "${KEY_HASH}", metadata = { plan = "gold" } }]
    metadata_headers = { plan = "X-Plan" }
  }
}
plugin "jwt" {
  source = "${JWT_AUTH}"
  config = {
    keys            = [{ kid = "k1", pem = "${PUB_PEM}" }]
    algorithms      = ["RS256"]
    issuer          = "https://issuer.test"
    audiences       = ["orders"]
    required_scopes = ["orders:read"]
    claims_to_headers = { sub = "X-User-Id" }
  }
  limits {
    timeout = "1s"
  }
}
plugin "cors" {
  source = "${CORS}"
  config = {
    origins = ["https://app.example.com"]
    methods = ["GET"]
  }
}
plugin "office" {
  source = "${IP}"
  config = {
    allow = ["10.1.0.0/16"]
  }
}
upstream "be" {
  targets = ["${BACKEND}"]
}
route "GET /keyed" {
  upstream = upstream.be
  pipeline = [plugin.apikey]
}
route "ANY /orders" {
  upstream = upstream.be
  pipeline = [plugin.cors, plugin.jwt]
}
route "GET /office" {
  upstream = upstream.be
  pipeline = [plugin.office]
}
`
	p := startGateway(t, cfg, vars)
	c := client()

	sign := func(claims jwt.MapClaims, method jwt.SigningMethod, k any) string {
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(k)
		require.NoError(t, err)
		return s
	}
	good := jwt.MapClaims{"sub": "user-7", "iss": "https://issuer.test", "aud": "orders",
		"scope": "orders:read orders:write", "exp": time.Now().Add(time.Hour).Unix()}
	valid := sign(good, jwt.SigningMethodRS256, key)
	noScope := sign(jwt.MapClaims{"sub": "user-7", "iss": "https://issuer.test", "aud": "orders",
		"exp": time.Now().Add(time.Hour).Unix()}, jwt.SigningMethodRS256, key)
	expired := sign(jwt.MapClaims{"sub": "user-7", "iss": "https://issuer.test", "aud": "orders",
		"scope": "orders:read", "exp": time.Now().Add(-time.Hour).Unix()}, jwt.SigningMethodRS256, key)
	// alg none and HS256 signed with the public key (key confusion).
	claimsJSON, _ := json.Marshal(good)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(claimsJSON) + "."
	confused := sign(good, jwt.SigningMethodHS256, []byte(pubPEM))
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(claimsJSON), "user-7", "admin", 1))) + "." + parts[2]

	tests := []struct {
		name    string
		path    string
		hdr     []string
		status  int
		message string
		check   func(t *testing.T, e echoed, h http.Header)
	}{
		{name: "key-auth ok", path: "/keyed", hdr: []string{"X-Api-Key", apiKey}, status: 200, check: func(t *testing.T, e echoed, _ http.Header) {
			assert.Equal(t, []string{"acme"}, e.Headers["X-Consumer"])
			assert.Equal(t, []string{"gold"}, e.Headers["X-Plan"])
		}},
		{name: "key-auth forged consumer header is replaced", path: "/keyed", hdr: []string{"X-Api-Key", apiKey, "X-Consumer", "evil"}, status: 200, check: func(t *testing.T, e echoed, _ http.Header) {
			assert.Equal(t, []string{"acme"}, e.Headers["X-Consumer"])
		}},
		{name: "key-auth missing", path: "/keyed", status: 401, message: "Unauthorized"},
		{name: "key-auth wrong", path: "/keyed", hdr: []string{"X-Api-Key", "nope"}, status: 401, message: "Unauthorized"},
		{name: "key-auth hash is not a key", path: "/keyed", hdr: []string{"X-Api-Key", vars["KEY_HASH"]}, status: 401, message: "Unauthorized"},
		{name: "jwt ok", path: "/orders", hdr: []string{"Authorization", "Bearer " + valid}, status: 200, check: func(t *testing.T, e echoed, _ http.Header) {
			assert.Equal(t, []string{"user-7"}, e.Headers["X-User-Id"])
		}},
		{name: "jwt forged identity header replaced", path: "/orders", hdr: []string{"Authorization", "Bearer " + valid, "X-User-Id", "admin"}, status: 200, check: func(t *testing.T, e echoed, _ http.Header) {
			assert.Equal(t, []string{"user-7"}, e.Headers["X-User-Id"])
		}},
		{name: "jwt missing", path: "/orders", status: 401, message: "Unauthorized"},
		{name: "jwt expired", path: "/orders", hdr: []string{"Authorization", "Bearer " + expired}, status: 401, message: "Unauthorized"},
		{name: "jwt alg none", path: "/orders", hdr: []string{"Authorization", "Bearer " + none}, status: 401, message: "Unauthorized"},
		{name: "jwt key confusion", path: "/orders", hdr: []string{"Authorization", "Bearer " + confused}, status: 401, message: "Unauthorized"},
		{name: "jwt tampered", path: "/orders", hdr: []string{"Authorization", "Bearer " + tampered}, status: 401, message: "Unauthorized"},
		{name: "jwt missing scope", path: "/orders", hdr: []string{"Authorization", "Bearer " + noScope}, status: 403, message: "Forbidden"},
		{name: "cors headers on a 401", path: "/orders", hdr: []string{"Origin", "https://app.example.com"}, status: 401, message: "Unauthorized", check: func(t *testing.T, _ echoed, h http.Header) {
			assert.Equal(t, "https://app.example.com", h.Get("Access-Control-Allow-Origin"))
		}},
		{name: "ip allowed through a trusted proxy", path: "/office", hdr: []string{"X-Forwarded-For", "10.1.2.3"}, status: 200},
		{name: "ip denied", path: "/office", status: 403, message: "Forbidden"},
		{name: "ip spoof: rightmost untrusted entry wins", path: "/office", hdr: []string{"X-Forwarded-For", "10.1.2.3, 203.0.113.9"}, status: 403, message: "Forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := get(t, c, p.URL(tc.path), tc.hdr...)
			require.Equal(t, tc.status, status, body)
			if tc.message != "" {
				var m map[string]string
				require.NoError(t, json.Unmarshal([]byte(body), &m), body)
				assert.Equal(t, tc.message, m["message"])
			}
			if tc.check != nil {
				var e echoed
				if status == 200 {
					e = decodeEcho(t, body)
				}
				tc.check(t, e, hdr)
			}
		})
	}

	t.Run("cors preflight answered by the plugin", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, p.URL("/orders"), nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, resp.Header.Get("Vary"), "Origin")
	})
	assert.NotContains(t, p.Logs(), apiKey, "the API key is never logged")
	assert.NotContains(t, p.Logs(), parts[2], "tokens are never logged")
}
