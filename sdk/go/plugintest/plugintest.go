// Package plugintest runs a Go plugin's handlers natively, against an
// in-process fake of the gateway host, so plugin logic is unit-testable with
// plain go test:
//
//	func TestAddsHeader(t *testing.T) {
//		h := plugintest.New(t, `{"request":{"X-A":"1"}}`)
//		res := h.Do(&plugintest.Request{Method: "GET", Path: "/"})
//		assert.Equal(t, "1", res.Request.Header.Get("X-A"))
//	}
//
// The plugin under test must be linked into the test binary (a _test.go file
// in the plugin's main package) so its init registered the handlers.
package plugintest

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"net/textproto"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/jsonsel"
	"github.com/wasmgate/gateway/host/schema"
	"github.com/wasmgate/gateway/sdk/go/internal/hostapi"
)

// hostMu serializes harnesses: the SDK has one host per process.
var hostMu sync.Mutex

// Request is the fake incoming request; after Do, Result.Request holds it as
// the upstream would have received it.
type Request struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
	RouteKey            string
	Params              map[string]string
	ClientIP, RequestID string
	TLS                 TLS
	Properties          map[string]string
}

// TLS is the fake connection's TLS details; zero means plaintext.
type TLS struct{ Version, Cipher, ServerName, PeerSubject string }

// Upstream is the fake final handler's response.
type Upstream struct {
	Status int
	Header http.Header
	Body   []byte
}

// LogEntry is one plugin log line.
type LogEntry struct {
	Level   int32
	Message string
}

// Result is what one Do produced.
type Result struct {
	// Request as forwarded upstream (unchanged if the plugin short-circuited).
	Request *Request
	// UpstreamCalled reports whether the request reached the upstream.
	UpstreamCalled bool
	// Responded reports a local response (plugin.Respond / Stop).
	Responded bool
	Status    int
	Header    http.Header
	Body      []byte
}

// Harness is a fake gateway host running one plugin's handlers.
type Harness struct {
	t testing.TB
	// Config is the JSON handed to OnConfigure.
	Config []byte
	// Upstream answers requests that were not short-circuited; zero value
	// means 200 with an empty body.
	Upstream Upstream
	// HTTP answers http_call; nil makes calls fail with ErrUnavailable.
	HTTP func(upstream string, req *http.Request) *http.Response
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Crypto answers crypto_verify with an abi result code; nil means the
	// host lacks abi.FeatureCryptoVerify. Set it before Configure.
	Crypto func(alg string, key, data, sig []byte) int32
	// NoJSONSchema makes the host lack abi.FeatureJSONSchema, to test a
	// plugin's fallback. Otherwise json_schema_* validate with the gateway's
	// own code (host/schema), as in production. Set it before Configure.
	NoJSONSchema bool
	// NoJSONSelect makes the host lack abi.FeatureJSONSelect; otherwise
	// json_select runs the gateway's own code (host/jsonsel).
	NoJSONSelect bool

	// Logs, KV and Metrics accumulate across requests.
	Logs    []LogEntry
	KV      map[string][]byte
	Metrics map[string]float64
	// ConfigError is the reason OnConfigure set, if it rejected the config.
	ConfigError string

	configuring bool
	schemas     *schema.Table

	metricNames []string
	metricKinds []uint32
	phases      uint32

	req      *Request
	res      *Result
	reqBody  bool
	respBody bool
	call     *http.Response
	callBody []byte
}

// New installs a fake host for the test, runs the plugin's OnConfigure with
// config and fails the test if it rejects it. Use NewUnconfigured to test
// rejection.
func New(t testing.TB, config string) *Harness {
	t.Helper()
	h := NewUnconfigured(t, config)
	if err := h.Configure(); err != nil {
		t.Fatalf("plugintest: plugin rejected its config: %v", err)
	}
	return h
}

// NewUnconfigured installs a fake host without calling OnConfigure.
func NewUnconfigured(t testing.TB, config string) *Harness {
	t.Helper()
	hostMu.Lock()
	h := &Harness{t: t, Config: []byte(config), KV: map[string][]byte{}, Metrics: map[string]float64{}, phases: ^uint32(0)}
	prev := hostapi.Set(h)
	t.Cleanup(func() {
		hostapi.Set(prev)
		hostMu.Unlock()
	})
	if hostapi.Registered().OnConfigure == nil {
		t.Fatalf("plugintest: no handlers registered; call plugin.Handle in the plugin's init and put the test in the plugin's package")
	}
	return h
}

// ConfigRejectedError is OnConfigure's rejection.
type ConfigRejectedError struct{ Message string }

// Error implements error.
func (e *ConfigRejectedError) Error() string { return e.Message }

// Configure runs OnConfigure.
func (h *Harness) Configure() error {
	h.ConfigError = ""
	h.configuring = true
	defer func() { h.configuring = false }()
	if rc := hostapi.Registered().OnConfigure(int32(len(h.Config))); rc != 0 {
		return &ConfigRejectedError{Message: h.ConfigError}
	}
	return nil
}

// Do runs one request through every phase the plugin registered.
func (h *Harness) Do(r *Request) *Result {
	h.t.Helper()
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	g := hostapi.Registered()
	h.req = r
	h.res = &Result{Request: r, Header: http.Header{}}
	h.reqBody, h.respBody = false, false
	defer func() { h.req = nil }()

	ran := func(bit uint32) bool { return h.phases&bit != 0 }
	stop := func(a uint32) bool { return a == abi.ActionRespond || h.res.Responded }

	done := false
	if ran(abi.PhaseRequestHeaders) && stop(g.OnRequestHeaders()) {
		done = true
	}
	if !done && ran(abi.PhaseRequestBody) {
		h.reqBody = true
		if stop(g.OnRequestBody()) {
			done = true
		}
		h.reqBody = false
	}
	if done {
		h.res.Responded = true
		if h.res.Status == 0 {
			h.res.Status = http.StatusOK
		}
	} else {
		h.res.UpstreamCalled = true
		up := h.Upstream
		h.res.Status = up.Status
		if h.res.Status == 0 {
			h.res.Status = http.StatusOK
		}
		for k, v := range up.Header {
			h.res.Header[k] = append([]string(nil), v...)
		}
		h.res.Body = append([]byte(nil), up.Body...)
		if ran(abi.PhaseResponseHeaders) {
			g.OnResponseHeaders()
		}
		if ran(abi.PhaseResponseBody) {
			h.respBody = true
			g.OnResponseBody()
			h.respBody = false
		}
	}
	if ran(abi.PhaseLog) {
		g.OnLog()
	}
	return h.res
}

// Interface guard.
var _ hostapi.Host = (*Harness)(nil)

func (h *Harness) mustReq(fn string) *Request {
	if h.req == nil {
		h.t.Fatalf("plugintest: %s called outside a request phase", fn)
	}
	return h.req
}

func (h *Harness) hdr(kind uint32) http.Header {
	if kind == abi.HeaderKindResponse {
		return h.res.Header
	}
	return h.mustReq("header").Header
}

// Features implements hostapi.Host.
func (h *Harness) Features() uint64 {
	f := abi.FeatureKV | abi.FeatureMetrics | abi.FeatureHTTPCall
	if h.Crypto != nil {
		f |= abi.FeatureCryptoVerify
	}
	if !h.NoJSONSchema {
		f |= abi.FeatureJSONSchema
	}
	if !h.NoJSONSelect {
		f |= abi.FeatureJSONSelect
	}
	return f
}

// JSONSelect implements json_select with host/jsonsel.
func (h *Harness) JSONSelect(doc, list []byte) (int32, []byte) {
	if h.NoJSONSelect {
		return abi.ResultUnavailable, nil
	}
	out, rc := jsonsel.ABI(doc, list, nil)
	return rc, out
}

// JSONSchemaCompile implements json_schema_compile with host/schema.
func (h *Harness) JSONSchemaCompile(src []byte, draft int32) int32 {
	switch {
	case h.NoJSONSchema:
		return abi.ResultUnavailable
	case !h.configuring:
		return abi.ResultWrongPhase
	}
	return h.schemaTable().Compile(src, draft)
}

// JSONSchemaError implements json_schema_error.
func (h *Harness) JSONSchemaError() string { return h.schemaTable().LastError() }

// JSONValidate implements json_validate with host/schema.
func (h *Harness) JSONValidate(id int32, doc []byte) (int32, []byte) {
	return h.schemaTable().Validate(id, doc)
}

func (h *Harness) schemaTable() *schema.Table {
	if h.schemas == nil {
		h.schemas = schema.NewTable(nil)
	}
	return h.schemas
}

// CryptoVerify answers crypto_verify with Crypto, or ResultUnavailable.
func (h *Harness) CryptoVerify(alg string, key, data, sig []byte) int32 {
	if h.Crypto == nil {
		return abi.ResultUnavailable
	}
	return h.Crypto(alg, key, data, sig)
}

// Phases returns the abi.Phase* bits the plugin asked for in OnConfigure
// (plugin.UsePhases), the phases Do runs.
func (h *Harness) Phases() uint32 { return h.phases }

// SetPhases implements hostapi.Host.
func (h *Harness) SetPhases(mask uint32) { h.phases = mask }

// ConfigGet implements hostapi.Host.
func (h *Harness) ConfigGet() []byte { return h.Config }

// SetError implements hostapi.Host.
func (h *Harness) SetError(msg string) { h.ConfigError = msg }

// Log implements hostapi.Host.
func (h *Harness) Log(level int32, msg string) { h.Logs = append(h.Logs, LogEntry{level, msg}) }

// HeaderGet implements hostapi.Host.
func (h *Harness) HeaderGet(kind uint32, name string) (string, bool) {
	v := h.hdr(kind).Values(name)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// HeaderValues implements hostapi.Host.
func (h *Harness) HeaderValues(kind uint32, name string) []string {
	return append([]string(nil), h.hdr(kind).Values(name)...)
}

// HeaderNames implements hostapi.Host.
func (h *Harness) HeaderNames(kind uint32) []string {
	var out []string
	for k := range h.hdr(kind) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// HeaderSet implements hostapi.Host.
func (h *Harness) HeaderSet(kind uint32, name, val string) { h.hdr(kind).Set(name, val) }

// HeaderAdd implements hostapi.Host.
func (h *Harness) HeaderAdd(kind uint32, name, val string) { h.hdr(kind).Add(name, val) }

// HeaderRemove implements hostapi.Host.
func (h *Harness) HeaderRemove(kind uint32, name string) {
	h.hdr(kind).Del(textproto.CanonicalMIMEHeaderKey(name))
}

// Method implements hostapi.Host.
func (h *Harness) Method() string { return h.mustReq("method").Method }

// SetMethod implements hostapi.Host.
func (h *Harness) SetMethod(m string) { h.mustReq("method").Method = m }

// Path implements hostapi.Host.
func (h *Harness) Path() string { return h.mustReq("path").Path }

// SetPath implements hostapi.Host.
func (h *Harness) SetPath(p string) { h.mustReq("path").Path = p }

// Query implements hostapi.Host.
func (h *Harness) Query() string { return h.mustReq("query").Query }

// SetQuery implements hostapi.Host.
func (h *Harness) SetQuery(q string) { h.mustReq("query").Query = q }

// RouteKey implements hostapi.Host.
func (h *Harness) RouteKey() string { return h.mustReq("route_key").RouteKey }

// RouteParam implements hostapi.Host.
func (h *Harness) RouteParam(name string) (string, bool) {
	v, ok := h.mustReq("route_param").Params[name]
	return v, ok
}

// ClientIP implements hostapi.Host.
func (h *Harness) ClientIP() string { return h.mustReq("client_ip").ClientIP }

// TLSInfo implements hostapi.Host.
func (h *Harness) TLSInfo(field uint32) string {
	t := h.mustReq("tls_info").TLS
	switch field {
	case abi.TLSFieldVersion:
		return t.Version
	case abi.TLSFieldCipher:
		return t.Cipher
	case abi.TLSFieldServerName:
		return t.ServerName
	}
	return t.PeerSubject
}

// RequestID implements hostapi.Host.
func (h *Harness) RequestID() string { return h.mustReq("request_id").RequestID }

// RequestBody implements hostapi.Host.
func (h *Harness) RequestBody() ([]byte, int32) {
	if !h.reqBody {
		return nil, abi.ResultWrongPhase
	}
	return bytes.Clone(h.req.Body), int32(len(h.req.Body))
}

// SetRequestBody implements hostapi.Host.
func (h *Harness) SetRequestBody(b []byte) int32 {
	if !h.reqBody {
		return abi.ResultWrongPhase
	}
	h.req.Body = bytes.Clone(b)
	return abi.ResultOK
}

// ResponseBody implements hostapi.Host.
func (h *Harness) ResponseBody() ([]byte, int32) {
	if !h.respBody {
		return nil, abi.ResultWrongPhase
	}
	return bytes.Clone(h.res.Body), int32(len(h.res.Body))
}

// SetResponseBody implements hostapi.Host.
func (h *Harness) SetResponseBody(b []byte) int32 {
	if !h.respBody {
		return abi.ResultWrongPhase
	}
	h.res.Body = bytes.Clone(b)
	return abi.ResultOK
}

// Status implements hostapi.Host.
func (h *Harness) Status() int32 { return int32(h.res.Status) }

// SetStatus implements hostapi.Host.
func (h *Harness) SetStatus(s int32) { h.res.Status = int(s) }

// SendResponse implements hostapi.Host.
func (h *Harness) SendResponse(status int32, body []byte) {
	h.res.Status, h.res.Body, h.res.Responded = int(status), bytes.Clone(body), true
}

// Property implements hostapi.Host.
func (h *Harness) Property(key string) (string, bool) {
	v, ok := h.mustReq("property").Properties[key]
	return v, ok
}

// SetProperty implements hostapi.Host.
func (h *Harness) SetProperty(key, val string) {
	r := h.mustReq("property")
	if r.Properties == nil {
		r.Properties = map[string]string{}
	}
	r.Properties[key] = val
}

// MetricDefine implements hostapi.Host.
func (h *Harness) MetricDefine(kind uint32, name, help string) int32 {
	for i, n := range h.metricNames {
		if n == name {
			return int32(i)
		}
	}
	if kind > abi.MetricKindHistogram || name == "" {
		return abi.ResultInvalid
	}
	h.metricNames = append(h.metricNames, name)
	h.metricKinds = append(h.metricKinds, kind)
	return int32(len(h.metricNames) - 1)
}

func (h *Harness) metric(id int32) string {
	if id < 0 || int(id) >= len(h.metricNames) {
		h.t.Fatalf("plugintest: metric id %d was never defined", id)
	}
	return h.metricNames[id]
}

// MetricAdd implements hostapi.Host.
func (h *Harness) MetricAdd(id int32, v float64) { h.Metrics[h.metric(id)] += v }

// MetricSet implements hostapi.Host.
func (h *Harness) MetricSet(id int32, v float64) { h.Metrics[h.metric(id)] = v }

// MetricObserve implements hostapi.Host: Metrics holds the sum of observations.
func (h *Harness) MetricObserve(id int32, v float64) { h.Metrics[h.metric(id)] += v }

// KVGet implements hostapi.Host.
func (h *Harness) KVGet(key string) ([]byte, int32) {
	v, ok := h.KV[key]
	if !ok {
		return nil, abi.ResultNotFound
	}
	return bytes.Clone(v), int32(len(v))
}

// KVSet implements hostapi.Host (TTLs are ignored).
func (h *Harness) KVSet(key string, val []byte, _ int64) int32 {
	h.KV[key] = bytes.Clone(val)
	return abi.ResultOK
}

// KVCAS implements hostapi.Host.
func (h *Harness) KVCAS(key string, old, new []byte, _ int64, flags uint32) int32 {
	cur, ok := h.KV[key]
	if flags&abi.KVFlagCreate != 0 {
		if ok {
			return 0
		}
	} else if !ok || !bytes.Equal(cur, old) {
		return 0
	}
	h.KV[key] = bytes.Clone(new)
	return 1
}

// KVDelete implements hostapi.Host.
func (h *Harness) KVDelete(key string) int32 { delete(h.KV, key); return abi.ResultOK }

// TimeNowNs implements hostapi.Host.
func (h *Harness) TimeNowNs() int64 {
	if h.Now != nil {
		return h.Now().UnixNano()
	}
	return time.Now().UnixNano()
}

// RandomGet implements hostapi.Host.
func (h *Harness) RandomGet(b []byte) { _, _ = rand.Read(b) }

// HTTPCall implements hostapi.Host.
func (h *Harness) HTTPCall(upstream, method, path string, headers, body []byte, _ int32) int32 {
	if h.HTTP == nil {
		return abi.ResultUnavailable
	}
	req, err := http.NewRequest(method, path, bytes.NewReader(body))
	if err != nil {
		return abi.ResultInvalid
	}
	parts := bytes.Split(headers, []byte{0})
	for i := 0; i+1 < len(parts); i += 2 {
		req.Header.Add(string(parts[i]), string(parts[i+1]))
	}
	h.call = h.HTTP(upstream, req)
	if h.call == nil {
		return abi.ResultDenied
	}
	h.callBody = nil
	if h.call.Body != nil {
		var b bytes.Buffer
		_, _ = b.ReadFrom(h.call.Body)
		h.callBody = b.Bytes()
	}
	return 1
}

// HTTPResponseStatus implements hostapi.Host.
func (h *Harness) HTTPResponseStatus() int32 {
	if h.call == nil {
		return 0
	}
	return int32(h.call.StatusCode)
}

// HTTPResponseHeader implements hostapi.Host.
func (h *Harness) HTTPResponseHeader(name string) (string, bool) {
	if h.call == nil {
		return "", false
	}
	v := h.call.Header.Values(name)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// HTTPResponseBody implements hostapi.Host.
func (h *Harness) HTTPResponseBody() []byte { return bytes.Clone(h.callBody) }
