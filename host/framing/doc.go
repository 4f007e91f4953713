// Package framing guards HTTP/1.1 request framing on raw connections, before
// net/http parses them, so that no request whose length is ambiguous reaches a
// handler (request smuggling, RFC 9112 sections 6.3 and 11.2).
//
// NewListener wraps a net.Listener. Each accepted connection runs a streaming
// tracker over the bytes the server reads:
//
//	HEADERS ──► BODY_LENGTH  (count down Content-Length) ──┐
//	   │   └──► BODY_CHUNKED (chunk-size lines, data,     ├─► HEADERS (next pipelined request)
//	   │                      trailer section)           ──┘
//	   └──► PASSTHROUGH (h2 preface, CONNECT, Upgrade)
//
// A header block is held back until its final CRLF, then released to net/http
// unchanged if it is acceptable. Body bytes stream through untouched while the
// tracker counts them to find where the message ends. When a header block is
// rejected, the tracker replaces it with a small request that net/http itself
// answers with an error status and "Connection: close", and passes no further
// bytes of the client's. Because net/http answers pipelined requests one after
// the other, the error response is written after the responses to any earlier
// requests on the connection, and then net/http closes the connection.
//
// # What is rejected
//
// Status 400 unless noted. Go's net/http already rejects some of these; the
// tracker checks them all so that it never disagrees with net/http about where
// a message ends.
//
//   - a request line that is not exactly method SP request-target SP
//     "HTTP/1.1" or "HTTP/1.0" (doubled or trailing spaces, tabs, other
//     versions, control bytes in the target);
//   - any line ending that is not CRLF: bare LF (net/http accepts it, a peer
//     may not) and bare CR;
//   - obs-fold (a line that starts with SP or HTAB), whitespace or any other
//     non-token byte in a field name, including space before the colon;
//   - control bytes (NUL, CR, DEL, ...) in a field value; HTAB and obs-text are
//     allowed;
//   - Content-Length that is not 1*DIGIT after trimming OWS ("+5", "0x5", "5,
//     5", empty), longer than 18 digits, or present more than once, even with
//     identical values (RFC 9110 section 8.6 lets a recipient merge them; a
//     gateway in front of other parsers must not);
//   - Transfer-Encoding together with Content-Length (net/http drops the
//     Content-Length silently), Transfer-Encoding in an HTTP/1.0 request
//     (net/http ignores it), a coding list whose final coding is not chunked
//     ("identity", "xchunked", "chunked;x=1", "chunked, gzip"), chunked
//     applied more than once ("chunked, chunked") or an empty list element;
//   - a coding list that ends in chunked but also names another coding, such
//     as "gzip, chunked": answered 501 Not Implemented (RFC 9112 section 6.1),
//     because the gateway does not decode transfer codings; net/http answers
//     an unsupported coding with 501 too;
//   - empty lines before the request line, except up to two CRLFs after a POST
//     request, which net/http skips for old clients (RFC 9112 section 2.2);
//   - a header block larger than Options.MaxHeaderBytes: answered 431 (see
//     Options.MaxHeaderBytes for how).
//
// Chunked bodies must use CRLF line endings, a chunk size of at most 16 hex
// digits below 2^62, optional extensions without control bytes, and a trailer
// section held to the header rules. A body that breaks these rules cannot be
// answered with 400 any more (the handler already has the request), so the
// connection's byte stream ends just before the offending line: the handler
// sees an unexpected EOF on the body and net/http closes the connection after
// the response.
//
// # Passthrough
//
// After the HTTP/2 connection preface "PRI * HTTP/2.0\r\n\r\n" at the start
// of a connection, and after a request whose method is CONNECT or which
// carries "Connection: upgrade" and an Upgrade field, the tracker stops
// looking and passes all further bytes unchanged: HTTP/2 has its own framing
// and an upgraded connection speaks another protocol. The tracker cannot see
// whether the handler really answered 101, so a client that sends Upgrade
// fields on a request the handler answers normally gets its later pipelined
// requests parsed by net/http alone. net/http still rejects most bad framing
// itself; the cases it accepts (duplicate Content-Length, Content-Length with
// Transfer-Encoding) are then not refused. Handlers that do not support
// upgrades should refuse requests carrying Upgrade with "Connection: close".
//
// # TLS
//
// NewTLSListener performs the TLS handshake lazily, in the connection's first
// Read and bounded by Options.HandshakeTimeout, never in Accept. HTTP/2
// negotiated by ALPN reaches net/http as prior-knowledge HTTP/2 over the
// guarded connection (net/http hands a connection to its HTTP/2 server by
// ALPN only when it is a *tls.Conn), so the server must enable both
// protocols:
//
//	var p http.Protocols
//	p.SetHTTP1(true)
//	p.SetUnencryptedHTTP2(true)
//	srv.Protocols = &p
//
// For the same reason the connections have no ConnectionState method: given
// one, net/http treats the connection as TLS and no longer looks for the
// HTTP/2 preface. Request.TLS is therefore nil; handlers read the state with
// TLSState on the connection, which http.Server.ConnContext can put in the
// request context.
package framing
