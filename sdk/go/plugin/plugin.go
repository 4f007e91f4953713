package plugin

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/internal/hostapi"
)

// Action is what a phase handler returns.
type Action = abi.Action

// The actions.
const (
	// Continue goes on with the next plugin or the upstream.
	Continue Action = abi.ActionContinue
	// Stop ends request processing with the local response built by
	// Respond (or the response status and headers set so far).
	Stop Action = abi.ActionRespond
)

// Handler holds a plugin's callbacks; nil fields are phases the plugin does not
// implement (the host skips them).
type Handler struct {
	// OnConfigure receives the plugin's config (JSON) once per instance. A
	// non-nil error rejects the config; its text becomes the diagnostic.
	OnConfigure func(config []byte) error
	// OnRequestHeaders runs before the upstream, in chain order.
	OnRequestHeaders func(req Request) Action
	// OnRequestBody runs with the whole request body buffered.
	OnRequestBody func(req Request) Action
	// OnResponseHeaders runs after the upstream, in reverse chain order.
	OnResponseHeaders func(req Request, resp Response) Action
	// OnResponseBody runs with the whole response body buffered.
	OnResponseBody func(req Request, resp Response) Action
	// OnLog runs last, for every request, and sees the final status.
	OnLog func(req Request, resp Response)
}

// handlerPhases are the abi.Phase* bits of the registered Handler's non-nil
// phase functions.
var handlerPhases uint32

// UsePhases narrows the phases the gateway calls to mask (abi.Phase* bits)
// among those the Handler implements. Call it from OnConfigure when the
// config leaves a phase nothing to do: a plugin without a request-body or
// response-body phase lets the gateway stream that body instead of
// buffering it, and every phase skipped is a call into the module saved.
func UsePhases(mask uint32) { host().SetPhases(mask & handlerPhases) }

// Handle registers h. Call it once, from an init function of the plugin's main
// package (c-shared modules do not run main).
func Handle(h Handler) {
	var mask uint32
	bit := func(ok bool, b uint32) {
		if ok {
			mask |= b
		}
	}
	bit(h.OnRequestHeaders != nil, abi.PhaseRequestHeaders)
	bit(h.OnRequestBody != nil, abi.PhaseRequestBody)
	bit(h.OnResponseHeaders != nil, abi.PhaseResponseHeaders)
	bit(h.OnResponseBody != nil, abi.PhaseResponseBody)
	bit(h.OnLog != nil, abi.PhaseLog)
	handlerPhases = mask
	phase := func(f func(Request) Action) func() uint32 {
		return func() uint32 {
			if f == nil {
				return Continue
			}
			return f(Request{})
		}
	}
	respPhase := func(f func(Request, Response) Action) func() uint32 {
		return func() uint32 {
			if f == nil {
				return Continue
			}
			return f(Request{}, Response{})
		}
	}
	hostapi.Register(hostapi.Guest{
		OnConfigure: func(int32) int32 {
			host().SetPhases(mask)
			if h.OnConfigure == nil {
				return 0
			}
			if err := h.OnConfigure(host().ConfigGet()); err != nil {
				host().SetError(err.Error())
				return 1
			}
			return 0
		},
		OnRequestHeaders:  phase(h.OnRequestHeaders),
		OnRequestBody:     phase(h.OnRequestBody),
		OnResponseHeaders: respPhase(h.OnResponseHeaders),
		OnResponseBody:    respPhase(h.OnResponseBody),
		OnLog: func() {
			if h.OnLog != nil {
				h.OnLog(Request{}, Response{})
			}
		},
	})
}

// Config returns the plugin's raw config JSON.
func Config() []byte { return host().ConfigGet() }

// DecodeConfig decodes the plugin's config JSON into v, rejecting unknown
// fields.
func DecodeConfig(config []byte, v any) error {
	if len(config) == 0 {
		return nil
	}
	d := json.NewDecoder(bytesReader(config))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errors.New("decode config: " + err.Error())
	}
	return nil
}

// Header is a header map of the request or the response.
type Header struct{ kind abi.HeaderKind }

// Get returns the first value of name, or "".
func (h Header) Get(name string) string { v, _ := host().HeaderGet(h.kind, name); return v }

// Lookup returns the first value of name and whether it is present.
func (h Header) Lookup(name string) (string, bool) { return host().HeaderGet(h.kind, name) }

// Values returns every value of name.
func (h Header) Values(name string) []string { return host().HeaderValues(h.kind, name) }

// Names returns the header names present.
func (h Header) Names() []string { return host().HeaderNames(h.kind) }

// Set replaces the values of name with val.
func (h Header) Set(name, val string) { host().HeaderSet(h.kind, name, val) }

// Add appends val to the values of name.
func (h Header) Add(name, val string) { host().HeaderAdd(h.kind, name, val) }

// Del removes name.
func (h Header) Del(name string) { host().HeaderRemove(h.kind, name) }

// Request is the current request. Its methods call the host.
type Request struct{}

// Header returns the request headers.
func (Request) Header() Header { return Header{abi.HeaderKindRequest} }

// Method returns the request method.
func (Request) Method() string { return host().Method() }

// SetMethod changes the method sent upstream.
func (Request) SetMethod(m string) { host().SetMethod(m) }

// Path returns the escaped request path.
func (Request) Path() string { return host().Path() }

// SetPath changes the path sent upstream.
func (Request) SetPath(p string) { host().SetPath(p) }

// Query returns the raw query string without "?".
func (Request) Query() string { return host().Query() }

// SetQuery replaces the raw query string.
func (Request) SetQuery(q string) { host().SetQuery(q) }

// RouteKey returns the matched route key, e.g. "GET /users/{id}".
func (Request) RouteKey() string { return host().RouteKey() }

// Param returns a route path parameter.
func (Request) Param(name string) (string, bool) { return host().RouteParam(name) }

// ClientIP returns the client address as the gateway computed it.
func (Request) ClientIP() string { return host().ClientIP() }

// ID returns the request id.
func (Request) ID() string { return host().RequestID() }

// TLS describes the client connection; zero on plaintext.
type TLS struct{ Version, Cipher, ServerName, PeerSubject string }

// TLS returns the client connection's TLS details.
func (Request) TLS() TLS {
	h := host()
	return TLS{h.TLSInfo(abi.TLSFieldVersion), h.TLSInfo(abi.TLSFieldCipher), h.TLSInfo(abi.TLSFieldServerName), h.TLSInfo(abi.TLSFieldPeerSubject)}
}

// Body returns the buffered request body (only in OnRequestBody).
func (Request) Body() ([]byte, error) { b, rc := host().RequestBody(); return b, result(rc) }

// BodyView is Body without the copy: the bytes are the SDK's body buffer,
// valid until the next BodyView (of the request or the response) in this
// instance, so until the phase returns at least. Do not keep or modify them;
// copy what must outlive the phase. A Go guest pays several µs to allocate
// and copy a body of a few KiB, so read-only uses (validate, select, convert)
// should use BodyView.
func (Request) BodyView() ([]byte, error) { b, rc := bodyView(false); return b, result(rc) }

// SetBody replaces the request body (only in OnRequestBody).
func (Request) SetBody(b []byte) error { return result(host().SetRequestBody(b)) }

// Property returns a per-request property set by this or an earlier plugin.
func (Request) Property(key string) (string, bool) { return host().Property(key) }

// SetProperty sets a per-request property, e.g. "auth.principal".
func (Request) SetProperty(key, val string) { host().SetProperty(key, val) }

// Response is the current response (or the local response being built).
type Response struct{}

// Header returns the response headers.
func (Response) Header() Header { return Header{abi.HeaderKindResponse} }

// Status returns the response status (0 before a response exists).
func (Response) Status() int { return int(host().Status()) }

// SetStatus changes the response status.
func (Response) SetStatus(s int) { host().SetStatus(int32(s)) }

// Body returns the buffered response body (only in OnResponseBody).
func (Response) Body() ([]byte, error) { b, rc := host().ResponseBody(); return b, result(rc) }

// BodyView is Body without the copy, with Request.BodyView's rules.
func (Response) BodyView() ([]byte, error) { b, rc := bodyView(true); return b, result(rc) }

// SetBody replaces the response body (only in OnResponseBody).
func (Response) SetBody(b []byte) error { return result(host().SetResponseBody(b)) }

// Respond builds a local response and returns Stop; headers set on
// Response{}.Header() beforehand are sent with it.
func Respond(status int, body []byte) Action {
	host().SendResponse(int32(status), body)
	return Stop
}

// RespondJSON responds with status and {"message": msg}.
func RespondJSON(status int, msg string) Action {
	Response{}.Header().Set("Content-Type", "application/json")
	return Respond(status, []byte(`{"message":`+strconv.Quote(msg)+`}`))
}

// Unauthorized responds 401 {"message":"Unauthorized"}.
func Unauthorized() Action { return RespondJSON(401, "Unauthorized") }

// Forbidden responds 403 {"message":"Forbidden"}.
func Forbidden() Action { return RespondJSON(403, "Forbidden") }

// Log levels.
func logAt(level abi.LogLevel, msg string) { host().Log(level, msg) }

// LogDebug logs msg at debug level with the plugin name and request id.
func LogDebug(msg string) { logAt(abi.LogLevelDebug, msg) }

// LogInfo logs msg at info level.
func LogInfo(msg string) { logAt(abi.LogLevelInfo, msg) }

// LogWarn logs msg at warn level.
func LogWarn(msg string) { logAt(abi.LogLevelWarn, msg) }

// LogError logs msg at error level.
func LogError(msg string) { logAt(abi.LogLevelError, msg) }

// Now returns the host's wall clock.
func Now() time.Time { return time.Unix(0, host().TimeNowNs()) }

// Random fills b from the host's crypto/rand.
func Random(b []byte) { host().RandomGet(b) }

// Errors mapped from abi result codes.
var (
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid argument")
	ErrDenied      = errors.New("denied by the gateway")
	ErrUnavailable = errors.New("not available on this gateway")
	ErrTimeout     = errors.New("timed out")
	ErrTooLarge    = errors.New("too large")
	ErrWrongPhase  = errors.New("not available in this phase")
)

func result(rc int32) error {
	switch {
	case rc >= 0:
		return nil
	case rc == abi.ResultNotFound:
		return ErrNotFound
	case rc == abi.ResultInvalid:
		return ErrInvalid
	case rc == abi.ResultDenied:
		return ErrDenied
	case rc == abi.ResultTimeout:
		return ErrTimeout
	case rc == abi.ResultTooLarge:
		return ErrTooLarge
	case rc == abi.ResultWrongPhase:
		return ErrWrongPhase
	}
	return ErrUnavailable
}
