// Package hostapi is the Go-level view of the gateway_v1 host functions the
// SDK calls. On wasip1 the plugin package implements it with //go:wasmimport;
// in native builds plugintest installs an in-process fake with Set.
//
// It also carries the registered guest callbacks, so plugintest can drive a
// plugin's handlers natively.
package hostapi

// Host is one method per host function, with Go types.
type Host interface {
	Features() uint64
	SetPhases(mask uint32)
	ConfigGet() []byte
	SetError(msg string)
	Log(level int32, msg string)

	HeaderGet(kind uint32, name string) (string, bool)
	HeaderValues(kind uint32, name string) []string
	HeaderNames(kind uint32) []string
	HeaderSet(kind uint32, name, val string)
	HeaderAdd(kind uint32, name, val string)
	HeaderRemove(kind uint32, name string)

	Method() string
	SetMethod(m string)
	Path() string
	SetPath(p string)
	Query() string
	SetQuery(q string)
	RouteKey() string
	RouteParam(name string) (string, bool)
	ClientIP() string
	TLSInfo(field uint32) string
	RequestID() string

	RequestBody() ([]byte, int32)
	SetRequestBody(b []byte) int32
	ResponseBody() ([]byte, int32)
	SetResponseBody(b []byte) int32
	Status() int32
	SetStatus(s int32)
	SendResponse(status int32, body []byte)

	Property(key string) (string, bool)
	SetProperty(key, val string)

	MetricDefine(kind uint32, name, help string) int32
	MetricAdd(id int32, v float64)
	MetricSet(id int32, v float64)
	MetricObserve(id int32, v float64)

	KVGet(key string) ([]byte, int32)
	KVSet(key string, val []byte, ttlMs int64) int32
	KVCAS(key string, old, new []byte, ttlMs int64, flags uint32) int32
	KVDelete(key string) int32

	TimeNowNs() int64
	RandomGet(b []byte)

	HTTPCall(upstream, method, path string, headers, body []byte, timeoutMs int32) int32
	HTTPResponseStatus() int32
	HTTPResponseHeader(name string) (string, bool)
	HTTPResponseBody() []byte
}

// Guest is the set of phase callbacks the plugin package registers.
type Guest struct {
	OnConfigure       func(configLen int32) int32
	OnRequestHeaders  func() uint32
	OnRequestBody     func() uint32
	OnResponseHeaders func() uint32
	OnResponseBody    func() uint32
	OnLog             func()
}

// The guest is a single-threaded wasm program with exactly one plugin, so
// package state is the natural home for its registration. In native tests
// plugintest swaps the host under a lock it holds for the whole test.
var (
	current Host
	guest   Guest
)

// Set installs h as the host for native builds and returns the previous one.
func Set(h Host) Host {
	prev := current
	current = h
	return prev
}

// Current returns the installed host, or nil.
func Current() Host { return current }

// Register records the guest callbacks.
func Register(g Guest) { guest = g }

// Registered returns the guest callbacks.
func Registered() Guest { return guest }
