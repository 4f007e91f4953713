// Package wsapi runs managed WebSocket APIs, API Gateway's model: the gateway
// terminates each WebSocket connection, calls the $connect route on the
// handshake (a non-2xx answer refuses it), selects a route for every message
// from its JSON body ($request.body.action by default, $default otherwise),
// calls that route's integration with the message and, on two-way routes,
// sends the answer back; $disconnect runs when the connection ends, whoever
// ends it.
//
// A Hub owns the live connections of one gateway process and serves the
// @connections API (send, get, delete by connection id). With Redis it also
// keeps a registry shared by every instance: a connection is found, and
// messages reach it through Redis pub/sub, whichever instance the call lands
// on; a crashed instance's connections are swept from the registry once its
// heartbeat key expires.
//
// The package knows nothing of upstreams or functions: the gateway gives each
// route an Integration. Connections outlive config reloads; Rebind points them
// at the new config's APIs.
package wsapi
