// Package proxy forwards requests to upstream targets and compresses responses.
//
// # Forwarding
//
// A Forwarder sends one client request to a target picked from a Balancer (an
// *upstream.Pool) and streams the answer back. It builds the outgoing request
// by hand instead of cloning the incoming one, which is what makes it cheaper
// than httputil.ReverseProxy:
//
//   - The URL is the target's scheme and host, the target's base path joined
//     with Exchange.Path (sent byte for byte: percent-encodings are kept) and
//     Exchange.RawQuery.
//   - The Host header is the target's host. The client's Host travels in
//     X-Forwarded-Host and in the host= parameter of Forwarded.
//   - Hop-by-hop headers (Connection, Proxy-Connection, Keep-Alive,
//     Proxy-Authenticate, Proxy-Authorization, Te, Trailer, Transfer-Encoding,
//     Upgrade) and every header named in Connection are dropped, in both
//     directions. "TE: trailers" is kept, and protocol upgrades (WebSocket)
//     forward "Connection: Upgrade" and the Upgrade header.
//   - X-Forwarded-For gets the TCP peer appended to the chain the client sent,
//     X-Forwarded-Proto is Exchange.Scheme, Forwarded (RFC 7239) gets one
//     for=;host=;proto= element appended, and the request id header carries
//     Exchange.RequestID (and is echoed in the response).
//   - Exchange.RequestHeaders then apply (Remove, Set, Add), so a route can
//     override any of the above; Exchange.ResponseHeaders apply to the answer.
//
// Bodies are streamed in both directions with pooled 32 KiB buffers. A
// response without Content-Length, or of type text/event-stream, is flushed to
// the client after every read from the upstream (httputil.ReverseProxy's
// FlushInterval -1); other responses are not flushed per write. Trailers are
// forwarded, announced or not. "Expect: 100-continue" is forwarded, so the
// client gets "100 Continue" only once the upstream asked for the body. A 101
// Switching Protocols answer hijacks the client connection and copies bytes
// both ways until either side closes.
//
// # Retries
//
// With Exchange.Retry set, a request is tried again on another target (the
// pool excludes the targets already tried) when the attempt failed to connect
// or reset, or when the upstream answered one of Retry.OnStatus. Only
// idempotent methods (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) without a body
// or with a replayable one (Request.GetBody) are retried, with two exceptions:
// a dial error is retried for any method, because nothing was sent, as long
// as no byte of the body was read. Waits double from Retry.Backoff up to
// Retry.MaxBackoff and end early when the request's context ends. When
// attempts run out, the last response (or error) goes to the client. Nothing
// is retried once a byte was written to the client.
//
// # Errors
//
// Failures become JSON answers written by WriteError: 504 "Endpoint request
// timed out" for Exchange.Timeout or the upstream's response timeout, 502
// "Bad Gateway" for connection failures, 503 "Service Unavailable" (with
// Retry-After) when the pool has no target, and 413 when the client's body is
// larger than the server allows. When the client goes away nothing is written
// and Exchange.Status is 499. Forward does not log failures: it reports them
// in Exchange.Err for the access log.
//
// # Compression
//
// A Compressor negotiates Accept-Encoding (zstd and gzip, q-values honoured)
// and wraps a ResponseWriter so that responses of the configured media types
// and at least MinSize bytes are compressed. It is the only user of
// github.com/klauspost/compress in the gateway.
package proxy
