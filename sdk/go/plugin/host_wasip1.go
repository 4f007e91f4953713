//go:build wasip1

package plugin

import (
	"unsafe"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/internal/hostapi"
)

// wasmHost implements hostapi.Host with the gateway_v1 imports.
type wasmHost struct{}

func host() hostapi.Host { return wasmHost{} }

// buf is the guest's reusable read buffer (the guest is single-threaded).
var buf = make([]byte, 2048)

func sp(s string) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}

func bp(b []byte) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b))
}

// read runs a buffer+limit call into buf: a view of buf valid until the next
// read, and the result code when negative.
func read(call func(p unsafe.Pointer, limit uint32) int32) ([]byte, int32) {
	return readInto(&buf, call)
}

// readInto runs a buffer+limit call into *b, growing it and retrying when
// the value did not fit.
func readInto(b *[]byte, call func(p unsafe.Pointer, limit uint32) int32) ([]byte, int32) {
	for {
		n := call(unsafe.Pointer(unsafe.SliceData(*b)), uint32(len(*b)))
		if n < 0 {
			return nil, n
		}
		if int(n) <= len(*b) {
			return (*b)[:n], n
		}
		*b = make([]byte, n)
	}
}

func readString(call func(p unsafe.Pointer, limit uint32) int32) (string, bool) {
	b, n := read(call)
	if n < 0 {
		return "", false
	}
	return string(b), true
}

func readBytes(call func(p unsafe.Pointer, limit uint32) int32) ([]byte, int32) {
	b, n := read(call)
	if n < 0 {
		return nil, n
	}
	return append([]byte(nil), b...), n
}

func split(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}

func (wasmHost) Features() uint64      { return hFeatures() }
func (wasmHost) SetPhases(mask uint32) { hPhasesSet(mask) }
func (wasmHost) ConfigGet() []byte {
	b, _ := readBytes(func(p unsafe.Pointer, l uint32) int32 { return hConfigGet(p, l) })
	return b
}
func (wasmHost) SetError(msg string) { p, n := sp(msg); hSetError(p, n) }
func (wasmHost) Log(level int32, msg string) {
	p, n := sp(msg)
	hLog(level, p, n)
}

func (wasmHost) HeaderGet(kind uint32, name string) (string, bool) {
	np, nl := sp(name)
	return readString(func(p unsafe.Pointer, l uint32) int32 { return hHeaderGet(kind, np, nl, p, l) })
}
func (wasmHost) HeaderValues(kind uint32, name string) []string {
	np, nl := sp(name)
	b, n := read(func(p unsafe.Pointer, l uint32) int32 { return hHeaderValues(kind, np, nl, p, l) })
	if n < 0 {
		return nil
	}
	return split(b)
}
func (wasmHost) HeaderNames(kind uint32) []string {
	b, _ := read(func(p unsafe.Pointer, l uint32) int32 { return hHeaderNames(kind, p, l) })
	return split(b)
}
func (wasmHost) HeaderSet(kind uint32, name, val string) {
	np, nl := sp(name)
	vp, vl := sp(val)
	hHeaderSet(kind, np, nl, vp, vl)
}
func (wasmHost) HeaderAdd(kind uint32, name, val string) {
	np, nl := sp(name)
	vp, vl := sp(val)
	hHeaderAdd(kind, np, nl, vp, vl)
}
func (wasmHost) HeaderRemove(kind uint32, name string) {
	np, nl := sp(name)
	hHeaderRemove(kind, np, nl)
}

func getS(f func(unsafe.Pointer, uint32) int32) string { s, _ := readString(f); return s }

func (wasmHost) Method() string     { return getS(hMethodGet) }
func (wasmHost) SetMethod(m string) { p, n := sp(m); hMethodSet(p, n) }
func (wasmHost) Path() string       { return getS(hPathGet) }
func (wasmHost) SetPath(s string)   { p, n := sp(s); hPathSet(p, n) }
func (wasmHost) Query() string      { return getS(hQueryGet) }
func (wasmHost) SetQuery(s string)  { p, n := sp(s); hQuerySet(p, n) }
func (wasmHost) RouteKey() string   { return getS(hRouteKeyGet) }
func (wasmHost) ClientIP() string   { return getS(hClientIPGet) }
func (wasmHost) RequestID() string  { return getS(hRequestIDGet) }
func (wasmHost) TLSInfo(field uint32) string {
	return getS(func(p unsafe.Pointer, l uint32) int32 { return hTLSInfoGet(field, p, l) })
}
func (wasmHost) RouteParam(name string) (string, bool) {
	np, nl := sp(name)
	return readString(func(p unsafe.Pointer, l uint32) int32 { return hRouteParamGet(np, nl, p, l) })
}

func (wasmHost) RequestBody() ([]byte, int32) { return readBytes(hRequestBodyRead) }

// bodyBuf is BodyView's buffer; separate from buf, which every other read
// reuses, so a body view survives the plugin's other host calls.
var bodyBuf = make([]byte, 4096)

// bodyView reads the request or response body into bodyBuf.
func bodyView(response bool) ([]byte, int32) {
	if response {
		return readInto(&bodyBuf, hResponseBodyRead)
	}
	return readInto(&bodyBuf, hRequestBodyRead)
}
func (wasmHost) ResponseBody() ([]byte, int32) { return readBytes(hResponseBodyRead) }
func (wasmHost) SetRequestBody(b []byte) int32 { p, n := bp(b); return hRequestBodyWrite(p, n) }
func (wasmHost) SetResponseBody(b []byte) int32 {
	p, n := bp(b)
	return hResponseBodyWrite(p, n)
}
func (wasmHost) Status() int32     { return hStatusGet() }
func (wasmHost) SetStatus(s int32) { hStatusSet(s) }
func (wasmHost) SendResponse(status int32, body []byte) {
	p, n := bp(body)
	hSendResponse(status, p, n)
}

func (wasmHost) Property(key string) (string, bool) {
	kp, kl := sp(key)
	return readString(func(p unsafe.Pointer, l uint32) int32 { return hPropertyGet(kp, kl, p, l) })
}
func (wasmHost) SetProperty(key, val string) {
	kp, kl := sp(key)
	vp, vl := sp(val)
	hPropertySet(kp, kl, vp, vl)
}

func (wasmHost) MetricDefine(kind uint32, name, help string) int32 {
	np, nl := sp(name)
	hp, hl := sp(help)
	return hMetricDefine(kind, np, nl, hp, hl)
}
func (wasmHost) MetricAdd(id int32, v float64)     { hMetricAdd(id, v) }
func (wasmHost) MetricSet(id int32, v float64)     { hMetricSet(id, v) }
func (wasmHost) MetricObserve(id int32, v float64) { hMetricObserve(id, v) }

func (wasmHost) KVGet(key string) ([]byte, int32) {
	kp, kl := sp(key)
	return readBytes(func(p unsafe.Pointer, l uint32) int32 { return hKVGet(kp, kl, p, l) })
}
func (wasmHost) KVSet(key string, val []byte, ttlMs int64) int32 {
	kp, kl := sp(key)
	vp, vl := bp(val)
	return hKVSet(kp, kl, vp, vl, ttlMs)
}
func (wasmHost) KVCAS(key string, old, new []byte, ttlMs int64, flags uint32) int32 {
	kp, kl := sp(key)
	op, ol := bp(old)
	np, nl := bp(new)
	return hKVCAS(kp, kl, op, ol, np, nl, ttlMs, flags)
}
func (wasmHost) KVDelete(key string) int32 { kp, kl := sp(key); return hKVDelete(kp, kl) }

func (wasmHost) TimeNowNs() int64 { return hTimeNowNs() }
func (wasmHost) RandomGet(b []byte) {
	if len(b) > 0 {
		p, n := bp(b)
		hRandomGet(p, n)
	}
}

func (wasmHost) HTTPCall(upstream, method, path string, headers, body []byte, timeoutMs int32) int32 {
	up, ul := sp(upstream)
	mp, ml := sp(method)
	pp, pl := sp(path)
	hp, hl := bp(headers)
	bdp, bl := bp(body)
	return hHTTPCall(up, ul, mp, ml, pp, pl, hp, hl, bdp, bl, timeoutMs)
}
func (wasmHost) HTTPResponseStatus() int32 { return hHTTPResponseStatus() }
func (wasmHost) HTTPResponseHeader(name string) (string, bool) {
	np, nl := sp(name)
	return readString(func(p unsafe.Pointer, l uint32) int32 { return hHTTPResponseHeader(np, nl, p, l) })
}
func (wasmHost) HTTPResponseBody() []byte { b, _ := readBytes(hHTTPResponseBody); return b }

var _ = abi.HostModule
