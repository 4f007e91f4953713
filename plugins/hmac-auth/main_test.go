package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

const (
	testKey    = "AKEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testScope  = "gateway/gw1_request"
	testCfg    = `{"keys":{"AKEXAMPLE":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","AKOTHER":"another-secret-of-enough-length"},"forward_header":"X-Consumer-Key"}`
)

var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// signed builds a signed POST and returns it as the harness request.
func signed(t testing.TB, at time.Time, mutate func(r *http.Request)) *plugintest.Request {
	t.Helper()
	body := []byte(`{"name":"widget"}`)
	r := httptest.NewRequest("POST", "http://api.example.com/v1/items/a%20b/%C3%A9?z=1&a=2&a=1&flag&sp=x+y", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if mutate != nil {
		mutate(r)
	}
	SignRequest(r, body, testKey, testSecret, testScope, at, r.Header.Get("X-Gw-Content-Sha256") == UnsignedPayload)
	return toHarness(r, body)
}

func toHarness(r *http.Request, body []byte) *plugintest.Request {
	h := r.Header.Clone()
	h.Set("Host", r.Host)
	return &plugintest.Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: h, Body: body}
}

func TestAWSSigV4Vectors(t *testing.T) {
	// From AWS's SigV4 test suite (get-vanilla, get-vanilla-query-order-key-case):
	// with AWS's names the algorithm is SigV4.
	aws := signer{"AWS4-HMAC-SHA256", "AWS4"}
	tests := []struct{ name, query, exp string }{
		{name: "get-vanilla", exp: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{name: "get-vanilla-query-order-key-case", query: "Param2=value2&Param1=value1", exp: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			empty := sha256.Sum256(nil)
			c, err := aws.canonicalRequest("GET", "/", tc.query, []string{"host", "x-amz-date"},
				[][]string{{"example.amazonaws.com"}, {"20150830T123600Z"}}, hex.EncodeToString(empty[:]))
			require.NoError(t, err)
			key := aws.signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1/service/aws4_request")
			m := hmac.New(sha256.New, key)
			m.Write([]byte(aws.stringToSign("20150830T123600Z", "20150830", "us-east-1/service/aws4_request", c)))
			assert.Equal(t, tc.exp, hex.EncodeToString(m.Sum(nil)))
		})
	}
}

func TestCanonicalForms(t *testing.T) {
	tests := []struct{ name, path, query, expURI, expQuery, expErr string }{
		{name: "root", path: "", expURI: "/"},
		{name: "space and utf-8", path: "/a%20b/%c3%a9", expURI: "/a%20b/%C3%A9"},
		{name: "unreserved decoded", path: "/%7Euser/%41", expURI: "/~user/A"},
		{name: "encoded slash stays in its segment", path: "/a%2Fb", expURI: "/a%2Fb"},
		{name: "reserved encoded", path: "/a:b@c", expURI: "/a%3Ab%40c"},
		{name: "bad escape", path: "/a%zz", expErr: "path is not validly escaped"},
		{name: "query sorted by name then value", query: "b=2&a=2&a=1&a-b=0", expURI: "/", expQuery: "a=1&a=2&a-b=0&b=2"},
		{name: "plus is a space", query: "q=a+b&r=a%20b", expURI: "/", expQuery: "q=a%20b&r=a%20b"},
		{name: "no value", query: "flag&x=", expURI: "/", expQuery: "flag=&x="},
		{name: "empty pairs dropped", query: "&&a=1&", expURI: "/", expQuery: "a=1"},
		{name: "bad query escape", query: "a=%g1", expErr: "query is not validly escaped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := gw1.canonicalRequest("GET", tc.path, tc.query, nil, nil, "p")
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "GET\n"+tc.expURI+"\n"+tc.expQuery+"\n\n\np", c)
		})
	}
}

func TestHMACAuth(t *testing.T) {
	tests := []struct {
		name   string
		cfg    string
		req    func(t testing.TB) *plugintest.Request
		expLog string // "" means accepted
	}{
		{name: "valid", req: func(t testing.TB) *plugintest.Request { return signed(t, testNow, nil) }},
		{name: "within skew in the past", req: func(t testing.TB) *plugintest.Request { return signed(t, testNow.Add(-4*time.Minute), nil) }},
		{name: "within skew in the future", req: func(t testing.TB) *plugintest.Request { return signed(t, testNow.Add(4*time.Minute), nil) }},
		{
			name:   "expired",
			req:    func(t testing.TB) *plugintest.Request { return signed(t, testNow.Add(-5*time.Minute-time.Second), nil) },
			expLog: "hmac-auth: access key AKEXAMPLE: request signed at 20240501T115459Z expired (older than 5m0s)",
		},
		{
			name:   "future-dated",
			req:    func(t testing.TB) *plugintest.Request { return signed(t, testNow.Add(6*time.Minute), nil) },
			expLog: "hmac-auth: access key AKEXAMPLE: request signed at 20240501T120600Z is in the future (more than 5m0s ahead)",
		},
		{
			name: "body tampered",
			req: func(t testing.TB) *plugintest.Request {
				r := signed(t, testNow, nil)
				r.Body = []byte(`{"name":"widget","admin":true}`)
				return r
			},
			expLog: "hmac-auth: access key AKEXAMPLE: signature does not match (wrong secret, or the request was changed)",
		},
		{name: "path tampered", req: mutate(func(r *plugintest.Request) { r.Path = "/v1/items/a%20c/%C3%A9" }), expLog: mismatch},
		{name: "path re-encoded the same is fine", req: mutate(func(r *plugintest.Request) { r.Path = "/v1/items/a%20b/%c3%a9" })},
		{name: "query value tampered", req: mutate(func(r *plugintest.Request) { r.Query = strings.Replace(r.Query, "z=1", "z=2", 1) }), expLog: mismatch},
		{name: "query param added", req: mutate(func(r *plugintest.Request) { r.Query += "&admin=1" }), expLog: mismatch},
		{name: "query reordered is fine", req: mutate(func(r *plugintest.Request) { r.Query = "flag&a=1&sp=x%20y&a=2&z=1" })},
		{name: "method changed", req: mutate(func(r *plugintest.Request) { r.Method = "PUT" }), expLog: mismatch},
		{name: "host changed", req: mutate(func(r *plugintest.Request) { r.Header.Set("Host", "evil.example.com") }), expLog: mismatch},
		{name: "signed header changed", req: mutate(func(r *plugintest.Request) { r.Header.Set("Content-Type", "text/plain") }), expLog: mismatch},
		{name: "unsigned header changed is fine", req: mutate(func(r *plugintest.Request) { r.Header.Set("X-Other", "1") })},
		{name: "signed header value whitespace is canonical", req: mutate(func(r *plugintest.Request) { r.Header.Set("Content-Type", "  application/json ") })},
		{
			name: "signature digit flipped",
			req: mutate(func(r *plugintest.Request) {
				a := r.Header.Get("Authorization")
				last := a[len(a)-1]
				flip := byte('0')
				if last == '0' {
					flip = '1'
				}
				r.Header.Set("Authorization", a[:len(a)-1]+string(flip))
			}),
			expLog: mismatch,
		},
		{
			name: "wrong secret",
			req: reqWith(func(r *http.Request, body []byte) {
				SignRequest(r, body, testKey, "not-the-secret-at-all", testScope, testNow, false)
			}),
			expLog: mismatch,
		},
		{
			name: "another key's secret",
			req: reqWith(func(r *http.Request, body []byte) {
				SignRequest(r, body, "AKOTHER", testSecret, testScope, testNow, false)
			}),
			expLog: "hmac-auth: access key AKOTHER: signature does not match (wrong secret, or the request was changed)",
		},
		{
			name: "unknown access key",
			req: reqWith(func(r *http.Request, body []byte) {
				SignRequest(r, body, "AKNOBODY", testSecret, testScope, testNow, false)
			}),
			expLog: `hmac-auth: unknown access key "AKNOBODY"`,
		},
		{
			name: "wrong scope",
			req: reqWith(func(r *http.Request, body []byte) {
				SignRequest(r, body, testKey, testSecret, "other/gw1_request", testNow, false)
			}),
			expLog: `hmac-auth: access key AKEXAMPLE: credential scope "other/gw1_request" is not "gateway/gw1_request"`,
		},
		{
			name: "date header not signed",
			req: mutate(func(r *plugintest.Request) {
				editAuth(r, "SignedHeaders=content-type;host;x-gw-date", "SignedHeaders=content-type;host")
			}),
			expLog: "hmac-auth: access key AKEXAMPLE: header x-gw-date must be signed",
		},
		{
			name:   "signed headers unsorted",
			req:    mutate(func(r *plugintest.Request) { editAuth(r, "content-type;host;x-gw-date", "host;content-type;x-gw-date") }),
			expLog: "hmac-auth: signed headers are not lowercase, sorted and unique",
		},
		{
			name:   "signed headers upper case",
			req:    mutate(func(r *plugintest.Request) { editAuth(r, "content-type;host", "Content-Type;host") }),
			expLog: "hmac-auth: signed headers are not lowercase, sorted and unique",
		},
		{
			name:   "signed header absent",
			req:    mutate(func(r *plugintest.Request) { r.Header.Del("Content-Type") }),
			expLog: "hmac-auth: access key AKEXAMPLE: signed header content-type is not in the request",
		},
		{
			name:   "required header not signed",
			cfg:    `{"keys":{"AKEXAMPLE":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},"signed_headers":["Content-Type","X-Tenant"]}`,
			req:    func(t testing.TB) *plugintest.Request { return signed(t, testNow, nil) },
			expLog: "hmac-auth: access key AKEXAMPLE: header x-tenant must be signed",
		},
		{
			name: "credential day differs from date header",
			req: mutate(func(r *plugintest.Request) {
				editAuth(r, "AKEXAMPLE/20240501/", "AKEXAMPLE/20240430/")
			}),
			expLog: "hmac-auth: access key AKEXAMPLE: credential date 20240430 is not the day of X-Gw-Date",
		},
		{
			name:   "date header malformed",
			req:    mutate(func(r *plugintest.Request) { r.Header.Set("X-Gw-Date", "2024-05-01T12:00:00Z") }),
			expLog: `hmac-auth: access key AKEXAMPLE: X-Gw-Date "2024-05-01T12:00:00Z" is not ISO 8601 basic like 20240501T120000Z`,
		},
		{
			name:   "date header missing",
			req:    mutate(func(r *plugintest.Request) { r.Header.Del("X-Gw-Date") }),
			expLog: "hmac-auth: access key AKEXAMPLE: no X-Gw-Date header",
		},
		{
			name: "unsigned payload not allowed",
			req: func(t testing.TB) *plugintest.Request {
				return signed(t, testNow, func(r *http.Request) { r.Header.Set(ContentHeader, UnsignedPayload) })
			},
			expLog: "hmac-auth: access key AKEXAMPLE: UNSIGNED-PAYLOAD is not allowed on this route",
		},
		{
			name: "unsigned payload allowed ignores the body",
			cfg:  `{"keys":{"AKEXAMPLE":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},"allow_unsigned_payload":true}`,
			req: func(t testing.TB) *plugintest.Request {
				r := signed(t, testNow, func(r *http.Request) { r.Header.Set(ContentHeader, UnsignedPayload) })
				r.Body = []byte("anything")
				return r
			},
		},
		{
			name: "content hash header not signed",
			req: mutate(func(r *plugintest.Request) {
				sum := sha256.Sum256(r.Body)
				r.Header.Set(ContentHeader, hex.EncodeToString(sum[:]))
			}),
			expLog: "hmac-auth: access key AKEXAMPLE: header x-gw-content-sha256 must be signed when sent",
		},
		{
			name: "content hash header matches body",
			req: func(t testing.TB) *plugintest.Request {
				return signed(t, testNow, func(r *http.Request) {
					sum := sha256.Sum256([]byte(`{"name":"widget"}`))
					r.Header.Set(ContentHeader, hex.EncodeToString(sum[:]))
				})
			},
		},
		{
			name: "content hash header does not match body",
			req: func(t testing.TB) *plugintest.Request {
				r := signed(t, testNow, func(r *http.Request) {
					sum := sha256.Sum256([]byte(`{"name":"widget"}`))
					r.Header.Set(ContentHeader, hex.EncodeToString(sum[:]))
				})
				r.Body = []byte(`{}`)
				return r
			},
			expLog: "hmac-auth: access key AKEXAMPLE: body does not match X-Gw-Content-Sha256",
		},
		{name: "missing authorization", req: mutate(func(r *plugintest.Request) { r.Header.Del("Authorization") }), expLog: "hmac-auth: no authorization header"},
		{name: "other scheme", req: mutate(func(r *plugintest.Request) { editAuth(r, "GW1-HMAC-SHA256 ", "AWS4-HMAC-SHA256 ") }), expLog: "hmac-auth: authorization scheme is not GW1-HMAC-SHA256"},
		{name: "repeated field", req: mutate(func(r *plugintest.Request) { editAuth(r, ", Signature=", ", Credential=x, Signature=") }), expLog: "hmac-auth: authorization field Credential is repeated or empty"},
		{name: "unknown field", req: mutate(func(r *plugintest.Request) { editAuth(r, ", Signature=", ", Nonce=1, Signature=") }), expLog: `hmac-auth: unknown authorization field "Nonce"`},
		{name: "missing signature", req: mutate(func(r *plugintest.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature")])
		}), expLog: "hmac-auth: authorization needs Credential, SignedHeaders and Signature"},
		{name: "short signature", req: mutate(func(r *plugintest.Request) { editAuth(r, "Signature=", "Signature=ab") }), expLog: "hmac-auth: signature is not 64 lowercase hex digits"},
		{name: "upper-case signature", req: mutate(func(r *plugintest.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + 10
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}), expLog: "hmac-auth: signature is not 64 lowercase hex digits"},
		{name: "bad credential", req: mutate(func(r *plugintest.Request) { editAuth(r, "AKEXAMPLE/20240501/", "AKEXAMPLE/2024/") }), expLog: "hmac-auth: credential is not <access_key>/<yyyymmdd>/<scope>"},
		{name: "oversized header", req: mutate(func(r *plugintest.Request) { r.Header.Set("Authorization", strings.Repeat("a", 5000)) }), expLog: "hmac-auth: authorization header of 5000 bytes is over 4096"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg == "" {
				cfg = testCfg
			}
			h := plugintest.New(t, cfg)
			h.Now = func() time.Time { return testNow }
			r := tc.req(t)
			r.Header.Set("X-Consumer-Key", "spoofed")
			res := h.Do(r)
			if tc.expLog == "" {
				require.True(t, res.UpstreamCalled, "logs: %v", h.Logs)
				assert.Equal(t, testKey, res.Request.Properties["auth.principal"])
				if strings.Contains(cfg, "forward_header") {
					assert.Equal(t, []string{testKey}, res.Request.Header.Values("X-Consumer-Key"))
				}
				return
			}
			assert.False(t, res.UpstreamCalled)
			assert.Equal(t, 401, res.Status)
			assert.JSONEq(t, `{"message":"Unauthorized"}`, string(res.Body))
			require.NotEmpty(t, h.Logs)
			assert.Equal(t, tc.expLog, h.Logs[len(h.Logs)-1].Message)
			for _, l := range h.Logs {
				assert.NotContains(t, l.Message, testSecret)
			}
		})
	}
}

const mismatch = "hmac-auth: access key AKEXAMPLE: signature does not match (wrong secret, or the request was changed)"

func mutate(f func(r *plugintest.Request)) func(t testing.TB) *plugintest.Request {
	return func(t testing.TB) *plugintest.Request {
		r := signed(t, testNow, nil)
		f(r)
		return r
	}
}

func reqWith(sign func(r *http.Request, body []byte)) func(t testing.TB) *plugintest.Request {
	return func(testing.TB) *plugintest.Request {
		body := []byte(`{"name":"widget"}`)
		r := httptest.NewRequest("POST", "http://api.example.com/v1/items", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		sign(r, body)
		return toHarness(r, body)
	}
}

func editAuth(r *plugintest.Request, old, new string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
}

func TestReplay(t *testing.T) {
	t.Run("replay rejected", func(t *testing.T) {
		h := plugintest.New(t, testCfg)
		h.Now = func() time.Time { return testNow }
		r := signed(t, testNow, nil)
		require.True(t, h.Do(r).UpstreamCalled)
		require.Len(t, h.KV, 1, "signature recorded")
		res := h.Do(signed(t, testNow, nil))
		assert.False(t, res.UpstreamCalled)
		assert.Equal(t, 401, res.Status)
		assert.Equal(t, "hmac-auth: access key AKEXAMPLE: signature already used (replayed request)", h.Logs[len(h.Logs)-1].Message)
		assert.True(t, h.Do(signed(t, testNow.Add(time.Second), nil)).UpstreamCalled, "a new signature passes")
	})
	t.Run("failed verification is not recorded", func(t *testing.T) {
		h := plugintest.New(t, testCfg)
		h.Now = func() time.Time { return testNow }
		r := signed(t, testNow, nil)
		r.Body = []byte("tampered")
		assert.False(t, h.Do(r).UpstreamCalled)
		assert.Empty(t, h.KV)
		assert.True(t, h.Do(signed(t, testNow, nil)).UpstreamCalled)
	})
	t.Run("replay protection off", func(t *testing.T) {
		h := plugintest.New(t, `{"keys":{"AKEXAMPLE":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},"replay_protection":false}`)
		h.Now = func() time.Time { return testNow }
		assert.True(t, h.Do(signed(t, testNow, nil)).UpstreamCalled)
		assert.True(t, h.Do(signed(t, testNow, nil)).UpstreamCalled)
		assert.Empty(t, h.KV)
	})
}

func TestConfig(t *testing.T) {
	tests := []struct{ name, in, expErr string }{
		{name: "no keys", in: `{}`, expErr: `keys: set at least one access key, e.g. keys = { AKEXAMPLE = env("AKEXAMPLE_SECRET") }`},
		{name: "short secret", in: `{"keys":{"AK":"short"}}`, expErr: `keys.AK: the secret is shorter than 16 bytes; use at least 32 random bytes`},
		{name: "slash in key", in: `{"keys":{"A/K":"0123456789abcdef"}}`, expErr: `keys: access key "A/K" is empty or contains '/', ',', '=' or whitespace`},
		{name: "bad scope", in: `{"keys":{"AK":"0123456789abcdef"},"scope":"a//b"}`, expErr: `scope: "a//b" must be non-empty parts separated by '/', without ',', '=' or whitespace`},
		{name: "bad skew", in: `{"keys":{"AK":"0123456789abcdef"},"clock_skew":"2h"}`, expErr: `clock_skew: "2h" is not a duration between 1s and 1h like "5m"`},
		{name: "bad header", in: `{"keys":{"AK":"0123456789abcdef"},"signed_headers":["a b"]}`, expErr: `signed_headers[0]: "a b" is not a header name`},
		{name: "bad forward header", in: `{"keys":{"AK":"0123456789abcdef"},"forward_header":"a:b"}`, expErr: `forward_header: "a:b" is not a header name`},
		{name: "unknown field", in: `{"key":{}}`, expErr: `decode config: json: unknown field "key"`},
		{name: "ok", in: testCfg},
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

// TestWorkedExample is the example in README.md, byte for byte.
func TestWorkedExample(t *testing.T) {
	body := []byte(`{"name":"widget"}`)
	r := httptest.NewRequest("POST", "http://api.example.com/v1/items?b=two+words&a=1", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	SignRequest(r, body, testKey, testSecret, testScope, testNow, false)
	assert.Equal(t, "20240501T120000Z", r.Header.Get("X-Gw-Date"))
	assert.Equal(t, "GW1-HMAC-SHA256 Credential=AKEXAMPLE/20240501/gateway/gw1_request, SignedHeaders=content-type;host;x-gw-date, "+
		"Signature=0a53a302255c89aa2869bc06f338dd091b67200e7c739794724a8f9292d24b53", r.Header.Get("Authorization"))

	sum := sha256.Sum256(body)
	c, err := gw1.canonicalRequest("POST", "/v1/items", "b=two+words&a=1", []string{"content-type", "host", "x-gw-date"},
		[][]string{{"application/json"}, {"api.example.com"}, {"20240501T120000Z"}}, hex.EncodeToString(sum[:]))
	require.NoError(t, err)
	assert.Equal(t, "POST\n/v1/items\na=1&b=two%20words\ncontent-type:application/json\nhost:api.example.com\nx-gw-date:20240501T120000Z\n\n"+
		"content-type;host;x-gw-date\n256e2b36195d6c9d25b78bf0df70019cb60421b088cf96ca21e570fbfc34f6b2", c)
	assert.Equal(t, "GW1-HMAC-SHA256\n20240501T120000Z\n20240501/gateway/gw1_request\n8cfb1e67a16b8cf767c51fc9423fd3425c18b0e2bbfa05148993fd964ecbb7f0",
		gw1.stringToSign("20240501T120000Z", "20240501", testScope, c))
	assert.Equal(t, "6d6a259b0f62e99e3a9af2aa210f31083b635481763ca71394c3ba7f7276cd47", hex.EncodeToString(gw1.signingKey(testSecret, "20240501", testScope)))

	h := plugintest.New(t, testCfg)
	h.Now = func() time.Time { return testNow }
	assert.True(t, h.Do(toHarness(r, body)).UpstreamCalled)
}
