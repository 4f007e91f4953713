package config

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current diagnostics")

// testSecret is the value of WASMGATE_TEST_SECRET; it must never be printed.
const testSecret = "s3cr3t-Token-9f2c"

// setTestEnv sets the environment variables the fixtures read.
func setTestEnv(t *testing.T) {
	t.Setenv("WASMGATE_TEST_SECRET", testSecret)
	t.Setenv("WASMGATE_TEST_TARGET", "http://10.9.9.9:7000")
	require.NoError(t, os.Unsetenv("WASMGATE_TEST_UNSET"))
	require.NoError(t, os.Unsetenv("WASMGATE_TEST_DEFINITELY_UNSET"))
}

// diagLines renders diags one per line, as the golden files hold them.
func diagLines(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(FormatDiagnostic(d))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestLoad(t *testing.T) {
	setTestEnv(t)
	abs := func(p string) string {
		a, err := filepath.Abs(filepath.Join("testdata", p))
		require.NoError(t, err)
		return a
	}
	tests := []struct {
		name string
		// exp checks a valid file; nil means the file is invalid and its
		// diagnostics must match testdata/NAME.golden.
		exp func(t *testing.T, g *Gateway)
	}{
		{name: "valid_minimal", exp: func(t *testing.T, g *Gateway) {
			assert.Equal(t, []string{"testdata/valid_minimal.hcl"}, g.Files)
			assert.Equal(t, Server{
				ReadTimeout: 30 * time.Second, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 60 * time.Second,
				IdleTimeout: 120 * time.Second, MaxHeaderBytes: 1 << 20, MaxBodyBytes: 10 << 20,
				ShutdownTimeout: 15 * time.Second, TrustedProxies: []netip.Prefix{}, RequestIDHeader: "X-Request-Id",
			}, g.Server)
			require.Len(t, g.Listeners, 1)
			assert.Equal(t, ":8080", g.Listeners[0].Address)
			assert.Nil(t, g.Listeners[0].TLS)
			assert.Equal(t, Admin{Address: "127.0.0.1:9090"}, g.Admin)
			assert.Equal(t, Log{Level: "info", Output: "stdout", AccessLog: true}, g.Log)
			assert.False(t, g.Compression.Enabled)
			assert.Equal(t, []string{"zstd", "gzip"}, g.Compression.Algorithms)
			assert.Equal(t, 1024, g.Compression.MinSize)
			assert.Contains(t, g.Compression.ContentTypes, "application/json")
			assert.Contains(t, g.Compression.ContentTypes, "text/*")
			assert.Equal(t, "default", g.Compression.Level)
			require.Len(t, g.Routes, 1)
			r := g.Routes[0]
			assert.Equal(t, "GET /hello", r.Key)
			assert.Equal(t, &Mock{Status: 200, Headers: map[string]string{}, Body: "hi"}, r.Mock)
			assert.Nil(t, r.Upstream)
			assert.Nil(t, r.Compression)
			assert.Equal(t, emptyHeaderOps(), r.RequestHeaders)
			assert.Empty(t, g.Pipeline)
			assert.Empty(t, g.Upstreams)
			assert.Empty(t, g.Plugins)
		}},
		{name: "valid_full", exp: func(t *testing.T, g *Gateway) {
			assert.Equal(t, Server{
				ReadTimeout: 31 * time.Second, ReadHeaderTimeout: 11 * time.Second, WriteTimeout: time.Minute,
				IdleTimeout: 90 * time.Minute, MaxHeaderBytes: 64 << 10, MaxBodyBytes: 1_000_000_000,
				ShutdownTimeout: 250 * time.Millisecond, RequestIDHeader: "X-Trace-Id",
				TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.1.2.3/32")},
			}, g.Server)
			assert.Equal(t, Admin{Address: "127.0.0.1:9191"}, g.Admin)
			require.Len(t, g.Listeners, 3)
			assert.Equal(t, "listen.0", g.Listeners[0].Name)
			assert.Equal(t, ":8080", g.Listeners[0].Address)
			assert.Equal(t, "127.0.0.1:8081", g.Listeners[1].Address)
			l := g.Listeners[2]
			assert.Equal(t, "public_tls", l.Name)
			assert.Equal(t, ":8443", l.Address)
			assert.True(t, l.H2C)
			assert.Equal(t, &TLS{CertFile: abs("tls/cert.pem"), KeyFile: abs("tls/key.pem"), MinVersion: tls.VersionTLS13}, l.TLS)
			assert.Equal(t, Log{Level: "debug", Output: "stderr", AccessLog: false}, g.Log)
			assert.Equal(t, Compression{Enabled: true, Algorithms: []string{"gzip"}, MinSize: 512,
				ContentTypes: []string{"application/json", "text/*"}, Level: "best"}, g.Compression)

			require.Len(t, g.Upstreams, 2)
			u := g.UpstreamByName["users"]
			require.Same(t, g.Upstreams[0], u)
			assert.Equal(t, []*Target{{URL: "http://127.0.0.1:9001", Weight: 1}, {URL: "https://users.internal:8443/base", Weight: 1}}, u.Targets)
			assert.Equal(t, BalanceHash, u.Balance)
			assert.Equal(t, "header:X-User", u.HashOn)
			assert.Equal(t, time.Second, u.ConnectTimeout)
			assert.Equal(t, 2*time.Second, u.ResponseTimeout)
			assert.Equal(t, 16, u.MaxIdleConnsPerHost)
			assert.Equal(t, 100, u.MaxConnsPerHost)
			assert.Equal(t, 3*time.Second, u.IdleConnTimeout)
			assert.True(t, u.TLSSkipVerify)
			assert.Equal(t, &Retry{Attempts: 3, OnStatus: []int{503}, Backoff: 10 * time.Millisecond, MaxBackoff: time.Second}, u.Retry)
			assert.Equal(t, &HealthCheck{Path: "/ready", Interval: 5 * time.Second, Timeout: time.Second,
				HealthyThreshold: 1, UnhealthyThreshold: 4, ExpectStatus: []int{200, 204}}, u.HealthCheck)
			assert.Equal(t, &PassiveHealth{ConsecutiveFailures: 7, EjectDuration: time.Minute}, u.PassiveHealth)
			assert.Equal(t, &CircuitBreaker{ConsecutiveFailures: 9, FailureRatio: 0.25, MinRequests: 40, Interval: 2 * time.Minute,
				OpenTimeout: 45 * time.Second, HalfOpenRequests: 2, FailureStatuses: []int{500, 502}}, u.CircuitBreaker)
			w := g.UpstreamByName["weighted"]
			assert.Equal(t, BalanceLeastRequests, w.Balance)
			assert.Equal(t, []*Target{{URL: "http://127.0.0.1:9003", Weight: 3}, {URL: "http://127.0.0.1:9004", Weight: 1}}, w.Targets)
			assert.Equal(t, 256, w.MaxIdleConnsPerHost)
			assert.Nil(t, w.Retry)

			require.Len(t, g.Plugins, 2)
			auth, cors := g.PluginByName["auth"], g.PluginByName["cors"]
			assert.Equal(t, abs("plugins/auth.wasm"), auth.Source)
			assert.JSONEq(t, `{"issuer":"X","keys":[1,2],"nested":{"deep":true}}`, string(auth.ConfigJSON))
			assert.Empty(t, auth.Sensitive)
			assert.Equal(t, OnErrorAllow, auth.OnError)
			assert.Equal(t, 8, auth.PoolSize)
			assert.Equal(t, 45*time.Second, auth.IdleTimeout)
			assert.Equal(t, DefaultPluginIdleTimeout, cors.IdleTimeout)
			assert.Equal(t, uint64(16<<20), auth.MemoryBytes)
			assert.Equal(t, 20*time.Millisecond, auth.Timeout)
			assert.Equal(t, "{}", string(cors.ConfigJSON))
			assert.Equal(t, OnErrorDeny, cors.OnError)
			assert.Equal(t, uint64(32<<20), cors.MemoryBytes)
			assert.Equal(t, 50*time.Millisecond, cors.Timeout)
			assert.Equal(t, []*Plugin{cors}, g.Pipeline)

			require.Len(t, g.APIs, 1)
			api := g.APIs[0]
			assert.Equal(t, "petstore", api.Name)
			assert.Equal(t, "/v1", api.BasePath)
			assert.Equal(t, "pets.example.com", api.Host)
			assert.Equal(t, "prod", api.Stage)
			assert.Equal(t, map[string]string{"env": "prod"}, api.Variables)
			assert.Equal(t, []*Plugin{auth, cors}, api.Pipeline)

			require.Len(t, g.Routes, 4)
			r := g.Routes[0]
			assert.Equal(t, "GET /users/{id}", r.Key)
			assert.Equal(t, "GET", r.Method)
			assert.Equal(t, "/users/{id}", r.Path)
			assert.Equal(t, "api.example.com", r.Host)
			assert.Nil(t, r.API)
			assert.Same(t, u, r.Upstream)
			assert.Equal(t, "/internal/users/{id}", r.UpstreamPath)
			assert.Equal(t, 10*time.Second, r.Timeout)
			require.NotNil(t, r.Compression)
			assert.False(t, *r.Compression)
			assert.Equal(t, []*Plugin{auth}, r.Pipeline)
			assert.Equal(t, HeaderOps{Set: map[string]string{"X-Env": "prod"}, Add: map[string]string{"X-Via": "gateway"}, Remove: []string{"Cookie"}}, r.RequestHeaders)
			assert.Equal(t, HeaderOps{Set: map[string]string{}, Add: map[string]string{}, Remove: []string{"Server"}}, r.ResponseHeaders)
			assert.Equal(t, 40, r.Range.Start.Line)

			pets := g.Routes[1]
			assert.Equal(t, "GET /v1/pets", pets.Key)
			assert.Equal(t, "/v1/pets", pets.Path)
			assert.Same(t, api, pets.API)
			assert.Equal(t, "pets.example.com", pets.Host)
			assert.Same(t, w, pets.Upstream)
			assert.Empty(t, pets.Pipeline)
			proxy := g.Routes[2]
			assert.Equal(t, "ANY /v1/pets/{proxy+}", proxy.Key)
			assert.Equal(t, "*.example.com", proxy.Host)
			assert.Equal(t, "/store/{proxy}", proxy.UpstreamPath)
			root := g.Routes[3]
			assert.Equal(t, "GET /v1", root.Key)
			assert.Equal(t, &Mock{Status: 201, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"ok":true}`}, root.Mock)
		}},
		{name: "valid_functions", exp: func(t *testing.T, g *Gateway) {
			assert.Equal(t, "", g.Admin.Address)
			assert.Equal(t, "http://10.9.9.9:7000", g.Upstreams[0].Targets[0].URL)
			charge := g.Routes[0]
			assert.Equal(t, 5*time.Second, charge.Timeout)
			assert.Equal(t, map[string]string{"Authorization": "Bearer " + testSecret, "X-Plain": "abc-7"}, charge.RequestHeaders.Set)
			key := g.Routes[1]
			assert.Equal(t, "file-secret-contents", key.Mock.Body)
			assert.Equal(t, map[string]string{"A": "1", "B": "2"}, key.Mock.Headers)
			p := g.Plugins[0]
			assert.JSONEq(t, `{"issuer":"https://issuer.example.com","secret":"`+testSecret+`",
				"keys":["public","file-secret-contents"],"jwks":{"kid":"k1","alg":"RS256"},"literal":{"a":1}}`, string(p.ConfigJSON))
			assert.ElementsMatch(t, []string{"/secret", "/keys/1", "/jwks"}, p.Sensitive)
		}},
		{name: "invalid_syntax"},
		{name: "invalid_schema"},
		{name: "invalid_duplicates"},
		{name: "invalid_routes"},
		{name: "invalid_upstreams"},
		{name: "invalid_values"},
	}

	files, err := filepath.Glob("testdata/*.hcl")
	require.NoError(t, err)
	var names []string
	for _, tc := range tests {
		names = append(names, filepath.Join("testdata", tc.name+".hcl"))
	}
	require.ElementsMatch(t, files, names, "every testdata/*.hcl file needs a test case")

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.name+".hcl")
			g, diags := Load(path)
			formatted := FormatDiagnostics(diags)
			assert.NotContains(t, formatted, testSecret, "a secret leaked into diagnostics")
			if tc.exp != nil {
				require.False(t, diags.HasErrors(), formatted)
				require.NotNil(t, g)
				tc.exp(t, g)
				return
			}
			require.True(t, diags.HasErrors(), "expected diagnostics")
			assert.Nil(t, g)
			got := diagLines(diags)
			for _, d := range diags {
				require.NotNil(t, d.Subject, "diagnostic without a position: %s", FormatDiagnostic(d))
				assert.Positive(t, d.Subject.Start.Line, FormatDiagnostic(d))
				assert.NotEmpty(t, d.Detail, FormatDiagnostic(d))
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			exp, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./host/config -update to create it")
			assert.Equal(t, string(exp), got)
		})
	}
}

func TestLoad_missingFile(t *testing.T) {
	g, diags := Load("testdata/does-not-exist.hcl")
	assert.Nil(t, g)
	assert.Equal(t, "testdata/does-not-exist.hcl: Cannot read config file; read testdata/does-not-exist.hcl: no such file or directory; check the path given with -config.\n",
		FormatDiagnostics(diags))
}

func TestLoadBytes(t *testing.T) {
	tests := []struct {
		name     string
		filename string
		in       string
		expErr   string
	}{
		{name: "hcl", filename: "testdata/inline.hcl", in: "route \"GET /\" {\n  mock {}\n}\n"},
		{name: "json syntax", filename: "testdata/inline.hcl.json",
			in: `{"upstream": {"u": {"targets": ["http://127.0.0.1:1"]}}, "route": {"GET /": {"upstream": "upstream.u"}}}`},
		{name: "json syntax unknown ref", filename: "testdata/inline.hcl.json",
			in:     `{"route": {"GET /": {"upstream": "upstream.nope"}}}`,
			expErr: `testdata/inline.hcl.json:1:34: Unknown upstream; route "GET /" refers to upstream "nope", which is not defined. Add an upstream "nope" block or fix the name.` + "\n"},
		{name: "empty file", filename: "testdata/empty.hcl", in: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, diags := LoadBytes(tc.filename, []byte(tc.in))
			if tc.expErr != "" {
				assert.Nil(t, g)
				assert.Equal(t, tc.expErr, diagLines(diags))
				return
			}
			require.Empty(t, diags, diagLines(diags))
			require.NotNil(t, g)
			assert.Equal(t, []string{tc.filename}, g.Files)
		})
	}
}

func TestRedactedJSON(t *testing.T) {
	setTestEnv(t)
	tests := []struct {
		name string
		file string
		exp  map[string]any // JSON pointer → expected value
	}{
		{name: "secrets", file: "testdata/valid_functions.hcl", exp: map[string]any{
			"/upstreams/0/targets/0":                      Redacted,
			"/upstreams/0/targets/1/url":                  "http://127.0.0.1:9002",
			"/routes/0/timeout":                           Redacted,
			"/routes/0/request_headers/set/Authorization": Redacted,
			"/routes/0/request_headers/set/X-Plain":       "abc-7",
			"/routes/1/mock/body":                         Redacted,
			"/routes/1/mock/headers/A":                    "1",
			"/plugins/0/config/secret":                    Redacted,
			"/plugins/0/config/keys/0":                    "public",
			"/plugins/0/config/keys/1":                    Redacted,
			"/plugins/0/config/jwks":                      Redacted,
			"/plugins/0/config/literal/a":                 json.Number("1"),
			"/plugins/0/config/issuer":                    "https://issuer.example.com",
			"/admin/address":                              "",
		}},
		{name: "plain", file: "testdata/valid_full.hcl", exp: map[string]any{
			"/server/read_timeout":                       "31s",
			"/server/idle_timeout":                       "1h30m0s",
			"/server/max_body_bytes":                     json.Number("1000000000"),
			"/server/trusted_proxies/2":                  "10.1.2.3/32",
			"/listeners/2/tls/min_version":               "1.3",
			"/upstreams/0/retry/backoff":                 "10ms",
			"/upstreams/0/circuit_breaker/failure_ratio": json.Number("0.25"),
			"/upstreams/1/retry":                         nil,
			"/routes/0/upstream":                         "users",
			"/routes/0/compression":                      false,
			"/routes/1/api":                              "petstore",
			"/routes/3/mock/body":                        `{"ok":true}`,
			"/plugins/0/config/keys/1":                   json.Number("2"),
			"/plugins/0/timeout":                         "20ms",
			"/pipeline/0":                                "cors",
			"/apis/0/pipeline/1":                         "cors",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, diags := Load(tc.file)
			require.False(t, diags.HasErrors(), FormatDiagnostics(diags))
			out, err := g.RedactedJSON()
			require.NoError(t, err)
			assert.NotContains(t, string(out), testSecret)
			assert.NotContains(t, string(out), "file-secret-contents")
			assert.NotContains(t, string(out), "10.9.9.9")
			assert.NotContains(t, string(out), "RS256")
			dec := json.NewDecoder(strings.NewReader(string(out)))
			dec.UseNumber()
			var doc any
			require.NoError(t, dec.Decode(&doc))
			for ptr, exp := range tc.exp {
				assert.Equal(t, exp, lookup(t, doc, ptr), ptr)
			}
		})
	}
}

// lookup follows a JSON pointer in a decoded document.
func lookup(t *testing.T, doc any, ptr string) any {
	t.Helper()
	node := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			require.True(t, ok, "%s: no key %q", ptr, tok)
			node = v
		case []any:
			var i int
			require.NoError(t, json.Unmarshal([]byte(tok), &i), ptr)
			require.Less(t, i, len(n), ptr)
			node = n[i]
		default:
			t.Fatalf("%s: cannot descend into %T", ptr, node)
		}
	}
	return node
}
