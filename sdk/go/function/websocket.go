package function

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// WebSocketEvent is what a function behind a websocket_api route receives;
// see abi.WebSocketEvent. RequestContext.EventType is CONNECT, MESSAGE or
// DISCONNECT and RequestContext.ConnectionID addresses the client.
type WebSocketEvent abi.WebSocketEvent

// WebSocketHandler handles one WebSocket event. On $connect a response
// status outside 2xx refuses the connection; on a two_way route the response
// body is sent to the client. Other routes may return Response{} (200).
type WebSocketHandler func(ctx context.Context, ev WebSocketEvent) (Response, error)

var registeredWS WebSocketHandler

// HandleWebSocket registers h as the function's handler for WebSocket
// events. Call it once, from an init function. A module may register both
// HandleFunc (HTTP routes) and HandleWebSocket; each event goes to the one
// its shape calls for.
func HandleWebSocket(h WebSocketHandler) {
	registeredWS = h
	plugin.Handle(plugin.Handler{})
}

// BodyBytes returns the message, decoded from base64 when IsBase64Encoded.
func (ev WebSocketEvent) BodyBytes() ([]byte, error) {
	if !ev.IsBase64Encoded {
		return []byte(ev.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		return nil, fmt.Errorf("function: decode base64 message: %w", err)
	}
	return b, nil
}

// isWebSocketEvent tells a WebSocket event from an HTTP one: only the
// former has requestContext.eventType.
func isWebSocketEvent(event string) bool {
	var probe struct {
		RequestContext struct {
			EventType string `json:"eventType"`
		} `json:"requestContext"`
	}
	return json.Unmarshal([]byte(event), &probe) == nil && probe.RequestContext.EventType != ""
}

// handleWebSocket runs the WebSocket handler on one event JSON.
func handleWebSocket(event string) ([]byte, error) {
	var ev WebSocketEvent
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		return nil, fmt.Errorf("function: decode WebSocket event: %w", err)
	}
	resp, err := registeredWS(context.Background(), ev)
	if err != nil {
		return nil, err
	}
	return appendResponse(make([]byte, 0, 64+len(resp.Body)), &resp), nil
}

// Errors of SendToConnection and CloseConnection.
var (
	// ErrGone: the connection is not connected (any more), on any instance.
	ErrGone = errors.New("function: the WebSocket connection is gone")
	// ErrTooLarge: the message is over the API's max_message_size.
	ErrTooLarge = errors.New("function: the message is larger than max_message_size")
	// ErrNoConnections: the gateway has no websocket_api, or this is a native build.
	ErrNoConnections = errors.New("function: WebSocket connections are not available here")
)

// SendToConnection sends data to WebSocket client id, on whichever gateway
// instance holds it (a text message when data is UTF-8, else binary). It is
// the function's equivalent of POST @connections/{id}.
func SendToConnection(id string, data []byte) error {
	return connectionError(connectionSend(id, data), "send to")
}

// CloseConnection closes WebSocket connection id (code 1000); its
// $disconnect route runs.
func CloseConnection(id string) error {
	return connectionError(connectionClose(id), "close")
}

func connectionError(rc int32, what string) error {
	switch rc {
	case abi.ResultOK:
		return nil
	case abi.ResultNotFound:
		return ErrGone
	case abi.ResultTooLarge:
		return ErrTooLarge
	case abi.ResultUnavailable:
		return ErrNoConnections
	}
	return fmt.Errorf("function: %s connection failed (result %d)", what, rc)
}
