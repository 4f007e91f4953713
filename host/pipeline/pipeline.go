package pipeline

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"

	"github.com/wasmgate/gateway/host/config"
)

// Phase is a bit set of plugin phases.
type Phase uint8

// The phases, in the order they run.
const (
	PhaseRequestHeaders Phase = 1 << iota
	PhaseRequestBody
	PhaseResponseHeaders
	PhaseResponseBody
	PhaseLog
)

// String returns the phase's export-style name, for logs and metric labels.
func (p Phase) String() string {
	switch p {
	case PhaseRequestHeaders:
		return "on_request_headers"
	case PhaseRequestBody:
		return "on_request_body"
	case PhaseResponseHeaders:
		return "on_response_headers"
	case PhaseResponseBody:
		return "on_response_body"
	case PhaseLog:
		return "on_log"
	}
	return "phases"
}

// Action is what a phase asks the pipeline to do next.
type Action uint8

// The actions.
const (
	// ActionContinue goes on with the next plugin or the final handler.
	ActionContinue Action = iota
	// ActionRespond short-circuits with the Exchange's local response.
	ActionRespond
)

// ErrBusy is wrapped by Plugin.Acquire when no instance became free before the
// request context ended; the pipeline answers 503 for on_error = "deny".
var ErrBusy = errors.New("no free plugin instance before the request deadline")

// Plugin is one loaded plugin, shared by all requests.
type Plugin interface {
	// Name is the plugin's name from config, for logs.
	Name() string
	// OnError is the fault policy.
	OnError() config.OnError
	// Phases is the set of phases the plugin implements; others are skipped
	// without a call.
	Phases() Phase
	// Acquire returns an instance pinned to one request, waiting with ctx when
	// all are busy (then the error wraps ErrBusy).
	Acquire(ctx context.Context) (Instance, error)
}

// Instance is a plugin instance pinned to one request.
type Instance interface {
	// Run calls one phase. An error means the instance faulted and must not
	// be used for further phases; it is discarded on Release.
	Run(ctx context.Context, phase Phase, ex *Exchange) (Action, error)
	// Release gives the instance back to its pool, or frees its slot after a
	// fault. ctx is the request's.
	Release(ctx context.Context)
}

// Param is one route path parameter.
type Param struct {
	Name, Value string
}

// Request is the request-scoped information the gateway computed before the
// pipeline runs, read by plugins through host functions.
type Request struct {
	RouteKey       string // "GET /users/{id}"
	Params         []Param
	ClientIP       string
	RequestID      string
	TLS            *tls.ConnectionState // nil on plaintext
	StageVariables map[string]string
	// Properties are per-request string properties shared by the plugins of
	// the chain (e.g. "auth.principal"); nil until one is set. The final
	// handler may read them to forward selected ones upstream.
	Properties map[string]string
}

// Param returns the value of the route parameter name.
func (r *Request) Param(name string) (string, bool) {
	for _, p := range r.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Property returns the property key.
func (r *Request) Property(key string) (string, bool) {
	v, ok := r.Properties[key]
	return v, ok
}

// SetProperty sets the property key.
func (r *Request) SetProperty(key, val string) {
	if r.Properties == nil {
		r.Properties = make(map[string]string, 4)
	}
	r.Properties[key] = val
}

// Exchange is the mutable state of one request as plugins see it. Host
// functions read and write it; the pipeline reuses it across requests.
type Exchange struct {
	// Request is the incoming request, changed in place by request phases.
	Request *http.Request
	// Info is the gateway's request information.
	Info *Request
	// RequestBody is the buffered request body (only during and after the
	// request-body phase; RequestBodyBuffered says so).
	RequestBody         []byte
	RequestBodyBuffered bool

	// Status is the response status: 0 during request phases until a plugin
	// builds a local response.
	Status int
	// Header is the response header map: the local response's during request
	// phases, the final handler's afterwards.
	Header http.Header
	// ResponseBody is the buffered response body (ResponseBodyBuffered says so).
	ResponseBody         []byte
	ResponseBodyBuffered bool
	// Responded reports that a plugin short-circuited with a local response.
	Responded bool
}

// Respond makes the exchange a local response with status and body; response
// headers set so far are kept.
func (e *Exchange) Respond(status int, body []byte) {
	e.Status = status
	e.ResponseBody = append(e.ResponseBody[:0], body...)
	e.ResponseBodyBuffered = true
	e.Responded = true
}

func (e *Exchange) reset(r *http.Request, info *Request) {
	e.Request, e.Info = r, info
	e.RequestBody = e.RequestBody[:0]
	e.RequestBodyBuffered = false
	e.Status = 0
	if e.Header == nil {
		e.Header = make(http.Header, 8)
	}
	clear(e.Header)
	e.ResponseBody = e.ResponseBody[:0]
	e.ResponseBodyBuffered = false
	e.Responded = false
}
