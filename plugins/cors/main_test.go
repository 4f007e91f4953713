package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

const credCfg = `{
	"origins": ["https://app.example.com", "https://*.example.com", "http://localhost:3000", "https://*.example.org:8443"],
	"methods": ["GET", "POST", "delete"],
	"headers": ["Authorization", "Content-Type"],
	"expose_headers": ["X-Request-Id"],
	"credentials": true,
	"max_age": 600
}`

func preflightReq(origin, method, headers string) *plugintest.Request {
	h := http.Header{}
	h.Set("Origin", origin)
	h.Set("Access-Control-Request-Method", method)
	if headers != "" {
		h.Set("Access-Control-Request-Headers", headers)
	}
	return &plugintest.Request{Method: "OPTIONS", Path: "/items", Header: h}
}

func TestOrigins(t *testing.T) {
	tests := []struct {
		name, origin string
		expAllowed   bool
	}{
		{name: "exact", origin: "https://app.example.com", expAllowed: true},
		{name: "exact upper case", origin: "HTTPS://APP.EXAMPLE.COM", expAllowed: true},
		{name: "subdomain wildcard", origin: "https://api.example.com", expAllowed: true},
		{name: "deep subdomain wildcard", origin: "https://a.b.example.com", expAllowed: true},
		{name: "apex is not a subdomain", origin: "https://example.com"},
		{name: "suffix without dot", origin: "https://evil-example.com"},
		{name: "suffix glued to label", origin: "https://evilexample.com"},
		{name: "domain as a prefix of attacker domain", origin: "https://app.example.com.evil.com"},
		{name: "wildcard domain as a prefix", origin: "https://x.example.com.evil.com"},
		{name: "scheme downgrade", origin: "http://api.example.com"},
		{name: "exact with a different scheme", origin: "http://app.example.com"},
		{name: "port not in pattern", origin: "https://api.example.com:8443"},
		{name: "exact with port", origin: "http://localhost:3000", expAllowed: true},
		{name: "exact different port", origin: "http://localhost:3001"},
		{name: "wildcard with port", origin: "https://a.example.org:8443", expAllowed: true},
		{name: "wildcard missing port", origin: "https://a.example.org"},
		{name: "null origin", origin: "null"},
		{name: "path smuggled", origin: "https://evil.com/.example.com"},
		{name: "user info smuggled", origin: "https://app.example.com@evil.com"},
		{name: "empty label", origin: "https://.example.com"},
		{name: "trailing dot", origin: "https://app.example.com."},
		{name: "trailing slash", origin: "https://app.example.com/"},
		{name: "empty", origin: ""},
		{name: "garbage", origin: "not an origin"},
	}
	h := plugintest.New(t, credCfg)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{"Origin": {tc.origin}}
			res := h.Do(&plugintest.Request{Method: "GET", Header: hdr})
			require.True(t, res.UpstreamCalled, "actual requests always go on")
			assert.Contains(t, res.Header.Values("Vary"), "Origin")
			if !tc.expAllowed {
				assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
				assert.Empty(t, res.Header.Get("Access-Control-Allow-Credentials"))
			} else {
				assert.Equal(t, tc.origin, res.Header.Get("Access-Control-Allow-Origin"), "echoed with credentials")
				assert.Equal(t, "true", res.Header.Get("Access-Control-Allow-Credentials"))
				assert.Equal(t, "X-Request-Id", res.Header.Get("Access-Control-Expose-Headers"))
			}

			res = h.Do(preflightReq(tc.origin, "GET", ""))
			require.True(t, res.Responded, "preflight is answered by the plugin")
			assert.False(t, res.UpstreamCalled)
			if tc.expAllowed {
				assert.Equal(t, 204, res.Status)
			} else {
				assert.Equal(t, 403, res.Status)
				assert.JSONEq(t, `{"message":"Forbidden"}`, string(res.Body))
				assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	tests := []struct {
		name, cfg, origin, method, headers string
		expStatus                          int
		expHeader                          map[string]string
	}{
		{
			name: "allowed", cfg: credCfg, origin: "https://app.example.com", method: "POST", headers: "content-type, Authorization",
			expStatus: 204,
			expHeader: map[string]string{
				"Access-Control-Allow-Origin":      "https://app.example.com",
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     "GET, POST, DELETE",
				"Access-Control-Allow-Headers":     "Authorization, Content-Type",
				"Access-Control-Max-Age":           "600",
			},
		},
		{name: "method not allowed", cfg: credCfg, origin: "https://app.example.com", method: "PUT", expStatus: 403},
		{name: "method case matters", cfg: credCfg, origin: "https://app.example.com", method: "post", expStatus: 403},
		{name: "header not allowed", cfg: credCfg, origin: "https://app.example.com", method: "GET", headers: "content-type, x-evil", expStatus: 403},
		{name: "malformed header list", cfg: credCfg, origin: "https://app.example.com", method: "GET", headers: "content-type, x evil", expStatus: 403},
		{name: "empty header items", cfg: credCfg, origin: "https://app.example.com", method: "GET", headers: " , ,", expStatus: 204},
		{
			name: "any origin without credentials is a literal star", cfg: `{"origins":["*"]}`, origin: "https://whatever.test", method: "GET",
			expStatus: 204,
			expHeader: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": "GET, HEAD, POST", "Access-Control-Max-Age": ""},
		},
		{
			name: "any origin with credentials echoes", cfg: `{"origins":["*"],"credentials":true}`, origin: "https://whatever.test", method: "GET",
			expStatus: 204,
			expHeader: map[string]string{"Access-Control-Allow-Origin": "https://whatever.test", "Access-Control-Allow-Credentials": "true"},
		},
		{name: "null origin with star and credentials", cfg: `{"origins":["*"],"credentials":true}`, origin: "null", method: "GET", expStatus: 403},
		{
			name: "null origin with star without credentials", cfg: `{"origins":["*"]}`, origin: "null", method: "GET",
			expStatus: 204, expHeader: map[string]string{"Access-Control-Allow-Origin": "*"},
		},
		{
			name: "null origin when listed", cfg: `{"origins":["null"],"credentials":true}`, origin: "null", method: "GET",
			expStatus: 204, expHeader: map[string]string{"Access-Control-Allow-Origin": "null"},
		},
		{
			name: "any method and header echo the request", cfg: `{"origins":["https://a.test"],"methods":["*"],"headers":["*"],"credentials":true}`,
			origin: "https://a.test", method: "PATCH", headers: "X-Custom, Content-Type",
			expStatus: 204,
			expHeader: map[string]string{"Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "x-custom, content-type"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, tc.cfg)
			res := h.Do(preflightReq(tc.origin, tc.method, tc.headers))
			require.True(t, res.Responded)
			assert.False(t, res.UpstreamCalled)
			assert.Equal(t, tc.expStatus, res.Status)
			for k, v := range tc.expHeader {
				assert.Equal(t, v, res.Header.Get(k), k)
			}
			if tc.expStatus == 403 {
				assert.JSONEq(t, `{"message":"Forbidden"}`, string(res.Body))
				assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
			} else {
				assert.Empty(t, res.Body)
			}
			assert.Contains(t, res.Header.Get("Vary"), "Origin")
		})
	}
}

func TestActualRequests(t *testing.T) {
	t.Run("plain OPTIONS goes upstream", func(t *testing.T) {
		h := plugintest.New(t, credCfg)
		res := h.Do(&plugintest.Request{Method: "OPTIONS", Header: http.Header{"Origin": {"https://app.example.com"}}})
		assert.True(t, res.UpstreamCalled)
		assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("OPTIONS without origin goes upstream", func(t *testing.T) {
		h := plugintest.New(t, credCfg)
		res := h.Do(&plugintest.Request{Method: "OPTIONS", Header: http.Header{"Access-Control-Request-Method": {"GET"}}})
		assert.True(t, res.UpstreamCalled)
	})
	t.Run("no origin: no CORS headers but Vary", func(t *testing.T) {
		h := plugintest.New(t, credCfg)
		res := h.Do(&plugintest.Request{})
		assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, []string{"Origin"}, res.Header.Values("Vary"))
	})
	t.Run("upstream CORS headers are replaced for a disallowed origin", func(t *testing.T) {
		h := plugintest.New(t, credCfg)
		h.Upstream = plugintest.Upstream{Header: http.Header{
			"Access-Control-Allow-Origin":      {"*"},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             {"Accept-Encoding, origin"},
		}}
		res := h.Do(&plugintest.Request{Header: http.Header{"Origin": {"https://evil.test"}}})
		assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
		assert.Empty(t, res.Header.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, []string{"Accept-Encoding, origin"}, res.Header.Values("Vary"), "Origin already listed, not duplicated")
	})
	t.Run("upstream star replaced by the echoed origin", func(t *testing.T) {
		h := plugintest.New(t, credCfg)
		h.Upstream = plugintest.Upstream{Header: http.Header{"Access-Control-Allow-Origin": {"*"}}}
		res := h.Do(&plugintest.Request{Method: "POST", Header: http.Header{"Origin": {"https://api.example.com"}}})
		assert.Equal(t, []string{"https://api.example.com"}, res.Header.Values("Access-Control-Allow-Origin"))
	})
}

func TestConfig(t *testing.T) {
	tests := []struct{ name, in, expErr string }{
		{name: "no origins", in: `{}`, expErr: `origins: set at least one origin, e.g. origins = ["https://app.example.com"]`},
		{name: "path", in: `{"origins":["https://a.test/x"]}`, expErr: `origins[0]: "https://a.test/x" is not an origin; write scheme://host[:port] with no path, e.g. "https://app.example.com" or "https://*.example.com"`},
		{name: "trailing slash", in: `{"origins":["https://a.test/"]}`, expErr: `origins[0]: "https://a.test/" is not an origin; write scheme://host[:port] with no path, e.g. "https://app.example.com" or "https://*.example.com"`},
		{name: "no scheme", in: `{"origins":["a.test"]}`, expErr: `origins[0]: "a.test" is not an origin; write scheme://host[:port] with no path, e.g. "https://app.example.com" or "https://*.example.com"`},
		{name: "tld wildcard", in: `{"origins":["https://*.com"]}`, expErr: `origins[0]: "https://*.com" has a wildcard that is too broad; "*." may only be the first label above a registrable domain, e.g. "https://*.example.com"`},
		{name: "inner wildcard", in: `{"origins":["https://a.*.example.com"]}`, expErr: `origins[0]: "https://a.*.example.com" has a wildcard outside the first label; use "*" alone or "https://*.example.com"`},
		{name: "partial label wildcard", in: `{"origins":["https://app-*.example.com"]}`, expErr: `origins[0]: "https://app-*.example.com" has a wildcard outside the first label; use "*" alone or "https://*.example.com"`},
		{name: "bad method", in: `{"origins":["*"],"methods":["GET POST"]}`, expErr: `methods[0]: "GET POST" is not an HTTP method name`},
		{name: "bad header", in: `{"origins":["*"],"headers":["X-A:"]}`, expErr: `headers[0]: "X-A:" is not a header name`},
		{name: "star expose", in: `{"origins":["*"],"expose_headers":["*"]}`, expErr: `expose_headers[0]: "*" is not a header name ("*" is not allowed: list the headers)`},
		{name: "max age", in: `{"origins":["*"],"max_age":-1}`, expErr: `max_age: -1 is out of range; use 0 to 86400 seconds`},
		{name: "bad port", in: `{"origins":["https://a.test:0"]}`, expErr: `origins[0]: "https://a.test:0" is not an origin; write scheme://host[:port] with no path, e.g. "https://app.example.com" or "https://*.example.com"`},
		{name: "ok ipv6", in: `{"origins":["http://[::1]:8080"]}`},
		{name: "ok", in: credCfg},
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
