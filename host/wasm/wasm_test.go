package wasm_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"hash"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
)

func request(method, target, op string, body string) *http.Request {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if op != "" {
		r.Header.Set("X-Op", op)
	}
	return r
}

func info() *pipeline.Request {
	return &pipeline.Request{
		RouteKey:  "GET /users/{id}",
		Params:    []pipeline.Param{{Name: "id", Value: "42"}},
		ClientIP:  "203.0.113.9",
		RequestID: "req-1",
		TLS:       &tls.ConnectionState{Version: tls.VersionTLS13, ServerName: "api.example"},
	}
}

func TestGoPluginHostFunctions(t *testing.T) {
	e := newEnv(t)
	kitchen := e.load(pluginCfg("kitchen", goPlugin(t, "kitchen"), func(p *config.Plugin) { p.ConfigJSON = []byte(`{"tag":"t1"}`) }))
	c := chain(kitchen)

	tests := []struct {
		name    string
		method  string
		target  string
		op      string
		body    string
		header  map[string]string // set; X-Multi also gets a second value "b"
		exp     map[string]string // response headers
		status  int
		expBody string
	}{
		{
			name: "request info", method: "GET", target: "/users/42?q=1",
			header: map[string]string{"X-Multi": "a"},
			exp: map[string]string{
				"X-Up-Tag": "t1", "X-Up-Seen-Method": "GET", "X-Up-Seen-Path": "/users/42", "X-Up-Seen-Query": "q=1",
				"X-Up-Seen-Route": "GET /users/{id}", "X-Up-Seen-Param": "42", "X-Up-Seen-Missing-Param": "",
				"X-Up-Seen-Client": "203.0.113.9", "X-Up-Seen-Request-Id": "req-1", "X-Up-Seen-Tls": "TLS 1.3|api.example",
				"X-Up-Seen-Multi": "a,b", "X-Up-Seen-Absent": "", "X-Up-Seen-Host": "example.com", "X-Up-Seen-Host-Values": "example.com", "X-Up-Body-Phase-Error": "",
				"X-Resp-Status": "200", "X-Resp-Property": "yes",
			},
			status: 200,
		},
		{
			name: "rewrite", method: "GET", target: "/x?old=1", op: "rewrite", header: map[string]string{"X-Remove": "1"},
			exp:    map[string]string{"X-Up-Method": "POST", "X-Up-Path": "/rewritten/a%2Fb", "X-Up-Query": "a=1", "X-Up-Remove": "", "X-Up-Added": "a", "X-Up-Host": "rewritten.example"},
			status: 200,
		},
		{name: "long header value needs a second read", method: "GET", target: "/", op: "long", exp: map[string]string{"X-Up-Long-Back": "5000"}, status: 200},
		{name: "short-circuit", method: "GET", target: "/", op: "respond", exp: map[string]string{"X-Short": "1", "X-Up-Method": "", "X-Resp-Status": ""}, status: 418, expBody: "short"},
		{name: "unauthorized", method: "GET", target: "/", op: "unauthorized", exp: map[string]string{"Content-Type": "application/json"}, status: 401, expBody: `{"message":"Unauthorized"}`},
		{name: "request body rewrite", method: "POST", target: "/", op: "body", body: "hello", status: 200, expBody: "HELLO"},
		{name: "request body short-circuit", method: "POST", target: "/", op: "body", body: "deny", status: 400, expBody: `{"message":"denied body"}`},
		{name: "request body over limit", method: "POST", target: "/", op: "body", body: strings.Repeat("a", 2000), status: 413},
		{name: "response status", method: "GET", target: "/", op: "status", status: 201},
		{name: "request body view", method: "POST", target: "/", op: "bodyview", body: strings.Repeat("v", 1000),
			status: 200, expBody: "view:42:bodyview:" + strings.Repeat("v", 1000)},
		{name: "response body view", method: "POST", target: "/", op: "respbodyview", body: "abc", status: 200, expBody: "viewed:abc"},
		{name: "response body rewrite", method: "POST", target: "/", op: "respbody", body: "abc", status: 200, expBody: "wrapped:abc"},
		{name: "respond from response phase", method: "GET", target: "/", op: "resp-respond", status: 503, expBody: "replaced"},
		{name: "kv", method: "GET", target: "/", op: "kv", exp: map[string]string{"X-Up-Kv": "true,false,true,v3,true,false,"}, status: 200},
		{
			name: "http call", method: "GET", target: "/", op: "http", status: 200,
			exp: map[string]string{"X-Up-Call": "202|POST /called?x=1 kitchen ping|backend|", "X-Up-Call-Denied": "denied by the gateway"},
		},
		{
			name: "random, clock, features", method: "GET", target: "/", op: "misc", status: 200,
			exp: map[string]string{"X-Up-Random-Nonzero": "true", "X-Up-Year": strconv.Itoa(time.Now().Year()), "X-Up-Wall-Year": strconv.Itoa(time.Now().Year()), "X-Up-Features": "239"},
		},
		{
			name: "digests and HMACs", method: "GET", target: "/", op: "digest", status: 200,
			exp: map[string]string{"X-Up-Digest": digests(), "X-Up-Digest-Errors": "true,true"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := request(tc.method, tc.target, tc.op, tc.body)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if _, ok := tc.header["X-Multi"]; ok {
				r.Header.Add("X-Multi", "b")
			}
			w := httptest.NewRecorder()
			c.Handle(w, r, info(), echo)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			for k, v := range tc.exp {
				assert.Equal(t, v, w.Header().Get(k), k)
			}
			if tc.expBody != "" {
				assert.Equal(t, tc.expBody, w.Body.String())
			}
		})
	}
	v, ok, err := e.kv.Get(t.Context(), "kitchen/lock")
	require.NoError(t, err)
	assert.True(t, ok, "kv keys are namespaced by plugin name")
	assert.Equal(t, "v3", string(v))
	assert.Equal(t, float64(len(tests)), metricValue(t, e, "kitchen_requests_total", "kitchen"))
	assert.Equal(t, float64(200), metricValue(t, e, "kitchen_last_status", "kitchen"))
	assert.Equal(t, float64(len("hello")+len("deny")), metricValue(t, e, "kitchen_body_bytes", "kitchen"))
}

// metricValue returns the value of a counter, gauge or histogram sum with
// plugin=plugin in reg.
func metricValue(t *testing.T, e *env, name, plugin string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "plugin" && l.GetValue() == plugin {
					switch {
					case m.Counter != nil:
						return m.Counter.GetValue()
					case m.Gauge != nil:
						return m.Gauge.GetValue()
					case m.Histogram != nil:
						return m.Histogram.GetSampleSum()
					}
				}
			}
		}
	}
	return -1
}

func faults(t *testing.T, e *env, plugin, phase, reason string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "gateway_plugin_faults_total" {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			want := map[string]string{"plugin": plugin, "phase": phase, "reason": reason}
			for _, l := range m.GetLabel() {
				if want[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return m.Counter.GetValue()
		}
	}
	return 0
}

func TestPhasesArePrecomputed(t *testing.T) {
	e := newEnv(t)
	all := pipeline.PhaseRequestHeaders | pipeline.PhaseRequestBody | pipeline.PhaseResponseHeaders | pipeline.PhaseResponseBody | pipeline.PhaseLog
	tests := []struct {
		name, source string
		exp          pipeline.Phase
	}{
		{"go sdk narrows to its handlers", goPlugin(t, "noop"), pipeline.PhaseRequestHeaders},
		{"go sdk two handlers", goPlugin(t, "auth"), pipeline.PhaseRequestHeaders | pipeline.PhaseResponseHeaders},
		{"go sdk every handler", goPlugin(t, "kitchen"), all},
		{"wat exports", watPlugin(t, "headers"), pipeline.PhaseRequestHeaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, e.load(pluginCfg("p", tc.source)).Phases())
		})
	}
}

// digests is what the kitchen plugin's digest op reports, computed here with
// Go's crypto: SHA-256 and SHA-384 of "abc", HMAC-SHA256 and HMAC-SHA512 of
// "data" keyed with "key".
func digests() string {
	sum := sha256.Sum256([]byte("abc"))
	d384 := sha512.Sum384([]byte("abc"))
	mac := func(h func() hash.Hash) string {
		m := hmac.New(h, []byte("key"))
		m.Write([]byte("data"))
		return hex.EncodeToString(m.Sum(nil))
	}
	return hex.EncodeToString(sum[:]) + "," + mac(sha256.New) + "," + hex.EncodeToString(d384[:]) + "," + mac(sha512.New)
}
