package plugin

import (
	"bytes"
	"io"
	"time"

	"github.com/wasmgate/gateway/abi"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Metric is a plugin metric exported on /metrics with a plugin label.
type Metric struct{ id int32 }

func define(kind abi.MetricKind, name, help string) (Metric, error) {
	id := host().MetricDefine(kind, name, help)
	if id < 0 {
		return Metric{}, result(id)
	}
	return Metric{id}, nil
}

// NewCounter defines a counter; call it from OnConfigure.
func NewCounter(name, help string) (Metric, error) { return define(abi.MetricKindCounter, name, help) }

// NewGauge defines a gauge; call it from OnConfigure.
func NewGauge(name, help string) (Metric, error) { return define(abi.MetricKindGauge, name, help) }

// NewHistogram defines a histogram; call it from OnConfigure.
func NewHistogram(name, help string) (Metric, error) {
	return define(abi.MetricKindHistogram, name, help)
}

// Add adds v to a counter or gauge.
func (m Metric) Add(v float64) { host().MetricAdd(m.id, v) }

// Set sets a gauge.
func (m Metric) Set(v float64) { host().MetricSet(m.id, v) }

// Observe records v in a histogram.
func (m Metric) Observe(v float64) { host().MetricObserve(m.id, v) }

func ttlMs(d time.Duration) int64 { return int64(d / time.Millisecond) }

// KVGet returns the value of key in the plugin's KV namespace.
func KVGet(key string) ([]byte, bool, error) {
	v, rc := host().KVGet(key)
	if rc == abi.ResultNotFound {
		return nil, false, nil
	}
	if rc < 0 {
		return nil, false, result(rc)
	}
	return v, true, nil
}

// KVSet stores val under key; ttl 0 means no expiry.
func KVSet(key string, val []byte, ttl time.Duration) error {
	return result(host().KVSet(key, val, ttlMs(ttl)))
}

// KVCompareAndSwap stores new if the value equals old; a nil old means
// "only if absent". It reports whether it stored.
func KVCompareAndSwap(key string, old, new []byte, ttl time.Duration) (bool, error) {
	var flags abi.KVFlag
	if old == nil {
		flags = abi.KVFlagCreate
	}
	rc := host().KVCAS(key, old, new, ttlMs(ttl), flags)
	if rc < 0 {
		return false, result(rc)
	}
	return rc == 1, nil
}

// KVDelete removes key.
func KVDelete(key string) error { return result(host().KVDelete(key)) }

// HTTPRequest is an outgoing call to an upstream declared in the gateway config.
type HTTPRequest struct {
	Upstream string
	Method   string
	Path     string // with an optional ?query
	Header   map[string]string
	Body     []byte
	Timeout  time.Duration
}

// HTTPResponse is the answer to HTTPCall.
type HTTPResponse struct {
	Status int
	Body   []byte
}

// Header returns a header of the last call's response.
func (HTTPResponse) Header(name string) string { v, _ := host().HTTPResponseHeader(name); return v }

// HTTPCall calls an upstream; the gateway allows only declared upstreams.
func HTTPCall(r HTTPRequest) (HTTPResponse, error) {
	var hdr []byte
	for k, v := range r.Header {
		hdr = append(append(append(append(hdr, k...), 0), v...), 0)
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	h := host()
	if rc := h.HTTPCall(r.Upstream, r.Method, r.Path, hdr, r.Body, int32(ttlMs(r.Timeout))); rc < 0 {
		return HTTPResponse{}, result(rc)
	}
	return HTTPResponse{Status: int(h.HTTPResponseStatus()), Body: h.HTTPResponseBody()}, nil
}

// Features returns the host's abi.Feature bits.
func Features() uint64 { return host().Features() }
