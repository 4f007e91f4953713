package abi

// Connections: host functions for reaching the clients of managed WebSocket
// APIs (websocket_api). They belong with the function ABI: every gateway_v1
// guest may import them, but the SDKs expose them for functions (the Go SDK's
// function.SendToConnection); the plugin SDKs' constant tables mirror abi.go
// only.
const (
	// FeatureConnections (a FuncFeatures bit): connection_send and
	// connection_close reach clients (the config declares a websocket_api).
	FeatureConnections uint64 = 1 << 4

	// FuncConnectionSend: (id_ptr, id_len, data_ptr, data_len) -> ResultOK |
	// ResultNotFound (the connection is gone, 410 in the @connections API) |
	// ResultTooLarge (over the API's max_message_size) | ResultUnavailable (no
	// websocket_api configured) | ResultInvalid (delivery failed). Sends one
	// message (text when UTF-8, else binary) to a WebSocket client on any
	// gateway instance.
	FuncConnectionSend = "connection_send"
	// FuncConnectionClose: (id_ptr, id_len) -> ResultOK | ResultNotFound |
	// ResultUnavailable. Closes a WebSocket connection (code 1000); its
	// $disconnect route runs.
	FuncConnectionClose = "connection_close"
)

// WebSocketEvent is what a function behind a route of a websocket_api
// receives: API Gateway's WebSocket event. EventType is CONNECT on the
// handshake ($connect; Headers and QueryStringParameters are set), MESSAGE
// for a client message (Body; binary messages are base64 with
// IsBase64Encoded) and DISCONNECT once the connection ended ($disconnect;
// DisconnectStatusCode and DisconnectReason are set). The function answers
// with a FunctionResponse: on $connect a status outside 2xx refuses the
// handshake with that status and body, and a Sec-WebSocket-Protocol header
// picks the subprotocol; on a two-way route the body is sent to the client.
type WebSocketEvent struct {
	RequestContext        WebSocketContext  `json:"requestContext"`
	Headers               map[string]string `json:"headers,omitempty"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

// WebSocketContext is WebSocketEvent.requestContext.
type WebSocketContext struct {
	RouteKey         string `json:"routeKey"`  // "$connect", "sendMessage", "$default", ...
	EventType        string `json:"eventType"` // CONNECT, MESSAGE or DISCONNECT
	MessageID        string `json:"messageId,omitempty"`
	RequestID        string `json:"requestId"`
	RequestTime      string `json:"requestTime"` // "02/Jan/2006:15:04:05 -0700"
	RequestTimeEpoch int64  `json:"requestTimeEpoch"`
	MessageDirection string `json:"messageDirection"` // "IN"
	Stage            string `json:"stage"`
	ConnectedAt      int64  `json:"connectedAt"` // Unix milliseconds
	DomainName       string `json:"domainName"`
	// ConnectionID addresses the client: connection_send, and the
	// @connections API on the admin listener.
	ConnectionID string            `json:"connectionId"`
	APIID        string            `json:"apiId"` // the websocket_api block's name
	Identity     WebSocketIdentity `json:"identity"`
	// Authorizer holds the properties the handshake's plugins set, such as
	// "auth.principal"; omitted when there are none.
	Authorizer           map[string]string `json:"authorizer,omitempty"`
	DisconnectStatusCode int               `json:"disconnectStatusCode,omitempty"`
	DisconnectReason     string            `json:"disconnectReason,omitempty"`
}

// WebSocketIdentity is WebSocketContext.identity.
type WebSocketIdentity struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}
