package wsapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/wasmgate/gateway/host/config"
)

// The route keys with a meaning of their own (see config).
const (
	RouteConnect    = config.RouteConnect
	RouteDisconnect = config.RouteDisconnect
	RouteDefault    = config.RouteDefault
)

// EventType says why an integration is called.
type EventType string

// The event types, as API Gateway names them.
const (
	EventConnect    EventType = "CONNECT"
	EventMessage    EventType = "MESSAGE"
	EventDisconnect EventType = "DISCONNECT"
)

// Event is one call of a route's integration.
type Event struct {
	Type      EventType
	RouteKey  string
	RequestID string // a fresh id per event, also in error messages to the client
	MessageID string // MESSAGE only
	Time      time.Time
	Conn      *Conn
	// Body is the message (MESSAGE only); Binary says it came in a binary frame.
	Body   []byte
	Binary bool
	// Header and Query are the handshake's (CONNECT only).
	Header http.Header
	Query  url.Values
	// DisconnectCode and DisconnectReason are the close frame's (DISCONNECT
	// only); 1006 when the connection ended without one.
	DisconnectCode   int
	DisconnectReason string
}

// Reply is an integration's answer. Status 0 means 200.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Integration delivers events to a route's backend (an HTTP upstream or a
// function). The error is for failures to get an answer at all; an answer
// with a 4xx or 5xx status is a Reply.
type Integration interface {
	Invoke(ctx context.Context, ev *Event) (*Reply, error)
}

// API is the runtime form of one websocket_api of one config generation.
type API struct {
	Name  string
	Stage string
	// Selection is the body field path of the route selection expression.
	Selection []string
	Routes    map[string]*Route
	// AllowedOrigins are Origin patterns; empty accepts any origin.
	AllowedOrigins  []string
	MaxFrameBytes   int64
	MaxMessageBytes int64
	IdleTimeout     time.Duration
	MaxDuration     time.Duration
}

// Route is one route of an API.
type Route struct {
	Key         string
	Integration Integration
	Timeout     time.Duration
	// TwoWay sends the integration's answer body to the client.
	TwoWay bool
	// Allow is the route's rate limit; nil means none. It reports whether
	// one more message of c may go through.
	Allow func(ctx context.Context, c *Conn) bool
}
