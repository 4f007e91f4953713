// Package pipeline runs a route's ordered plugin chain around a final handler
// (the upstream proxy, a mock or a function).
//
// It is written against the small Plugin and Instance interfaces declared here
// and knows nothing of wazero; host/wasm implements them.
//
// # Flow of one request
//
//  1. One Instance is acquired per plugin and pinned to the request for all
//     of its phases.
//  2. Request-header phases run in chain order. Each may change method, path,
//     query and headers, or short-circuit with a local response. After a
//     short-circuit the later plugins' request phases and the final handler are
//     skipped, and the response phases of the plugins that ran before the
//     responding one still run, in reverse order (as Envoy does with a local
//     reply from a proxy-wasm filter).
//  3. If any plugin has a request-body phase, the body is buffered up to
//     Options.MaxBodyBytes (413 beyond) and the body phases run in order.
//  4. The final handler runs with a ResponseWriter that captures status and
//     headers. The body is buffered only when some plugin has a response-body
//     phase (up to Options.MaxResponseBodyBytes, 502 beyond); otherwise it
//     streams straight through once the response-header phases have run.
//  5. Response phases run in reverse chain order, then the response is written.
//  6. on_log runs for every acquired instance, then all are released.
//
// A plugin fault (trap, timeout, ABI misuse) discards the instance. With
// on_error = "deny" the client gets 500 (503 when waiting for a free instance
// timed out); with "allow" the faulty plugin is skipped for the rest of the
// request and the request goes on.
package pipeline
