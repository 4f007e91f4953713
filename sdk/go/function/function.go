package function

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Event is the request a function receives (API Gateway HTTP API payload
// format 2.0); see abi.FunctionEvent for each field.
type Event abi.FunctionEvent

// Response is what a function returns; see abi.FunctionResponse. The SDK
// only reads it, so responses may share maps and slices: headers that never
// change can be one package-level map, which saves the guest an allocation
// and a hashed insert per response.
type Response abi.FunctionResponse

// Handler handles one event.
type Handler func(ctx context.Context, ev Event) (Response, error)

// The guest is a single-threaded wasm program with exactly one function, so
// its registration lives in package state, as in package plugin.
var registered Handler

// HandleFunc registers h as the function's handler. Call it once, from an init
// function of the function's main package.
func HandleFunc(h Handler) {
	registered = h
	// The plugin SDK supplies the ABI marker and on_configure (config_get);
	// no plugin phase runs for a function.
	plugin.Handle(plugin.Handler{})
}

// ErrNoHandler is returned by Invoke before HandleFunc was called.
var ErrNoHandler = errors.New("function: no handler registered; call function.HandleFunc in the function's init")

// BodyBytes returns the request body, decoded from base64 when
// IsBase64Encoded is set.
func (ev Event) BodyBytes() ([]byte, error) {
	if !ev.IsBase64Encoded {
		return []byte(ev.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		return nil, fmt.Errorf("function: decode base64 request body: %w", err)
	}
	return b, nil
}

// JSON returns a response with status and v encoded as JSON. If v cannot be
// encoded the response is a 500 naming the error.
func JSON(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Text(500, "encode response: "+err.Error())
	}
	return Response{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

// Text returns a text/plain response.
func Text(status int, body string) Response {
	return Response{StatusCode: status, Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, Body: body}
}

// Binary returns a response with body sent as is: it is base64-encoded in the
// response JSON unless it is valid UTF-8.
func Binary(status int, contentType string, body []byte) Response {
	r := Response{StatusCode: status, Headers: map[string]string{"Content-Type": contentType}}
	if utf8.Valid(body) {
		r.Body = string(body)
	} else {
		r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return r
}

// handle runs the registered handler on one event, JSON or packed (see
// abi.ExportEventPacked), and returns the response in the same form, or an
// error the host turns into a 502. The event's strings
// may share event's memory, which must not change afterwards. The response
// is valid until the next handle.
func handle(event string) ([]byte, error) {
	if registeredWS != nil && (registered == nil || isWebSocketEvent(event)) {
		return handleWebSocket(event)
	}
	if registered == nil {
		return nil, ErrNoHandler
	}
	var ev Event
	packed := len(event) > 0 && event[0] == abi.PackedTag
	if packed {
		if err := abi.DecodePackedEvent(event, (*abi.FunctionEvent)(&ev)); err != nil {
			return nil, fmt.Errorf("function: decode event: %w", err)
		}
	} else if err := decodeEvent(event, &ev); err != nil {
		return nil, err
	}
	resp, err := registered(context.Background(), ev)
	if err != nil {
		return nil, err
	}
	if packed {
		outBuf = abi.AppendPackedResponse(outBuf[:0], (*abi.FunctionResponse)(&resp))
	} else {
		outBuf = appendResponse(outBuf[:0], &resp)
	}
	return outBuf, nil
}

// outBuf is the encoded response handle returns, reused: the host copies it
// (event_respond) and Invoke decodes it before the next event.
var outBuf = make([]byte, 0, 1024)

// Invoke runs the registered handler on ev with the same JSON encoding the
// gateway uses, for native tests with sdk/go/plugintest's fake host. A
// response with IsBase64Encoded is returned as produced (base64 body).
func Invoke(ev Event) (Response, error) {
	in, err := json.Marshal(ev)
	if err != nil {
		return Response{}, fmt.Errorf("function: encode event: %w", err)
	}
	out, err := handle(string(in))
	if err != nil {
		return Response{}, err
	}
	var r Response
	if err := json.Unmarshal(out, &r); err != nil {
		return Response{}, fmt.Errorf("function: decode response: %w", err)
	}
	return r, nil
}
