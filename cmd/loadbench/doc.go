// Command loadbench is the load benchmark behind `make bench`: it measures the
// gateway against the backend served directly and against a bare
// httputil.ReverseProxy, on loopback, in one run.
//
//	loadbench run [--gateway bin/gateway] [--target name=template.hcl[:/path]]...
//	              [--body name=FILE]... [--rounds 3] [--duration 5s]
//	              [--warmup 1s] [--conns 64] [--path /] [--timeout 10s]
//	              [--wrk] [--wrk-threads N] [--idle 10000] [--json FILE]
//	loadbench load      --url URL [--body FILE] [--conns 64] [--duration 5s]
//	loadbench backend   [--addr 127.0.0.1:0]
//	loadbench bareproxy --upstream URL [--addr 127.0.0.1:0]
//	loadbench idle      --url URL --pid PID [--conns 10000] [--timeout 60s]
//	loadbench wsidle    --gateway bin/gateway [--conns 10000] [--path /ws/fn]
//	                    [--settle 30s] [--heap=true] [--json FILE]
//	loadbench wsrtt     --gateway bin/gateway [--target name=/path]...
//	                    [--conns 32] [--duration 10s] [--warmup 1s] [--json FILE]
//
// run starts the backend, the bare proxy and, with --gateway, one gateway
// process per config template ("GATEWAY run --config FILE"), each in its own
// process group; it stops them all at the end, on error and on SIGINT. A
// template is an HCL file in which ${BACKEND_URL}, ${LISTEN} and ${ADMIN}
// are replaced by the backend's URL and free loopback addresses;
// builtin:NAME names a file of cmd/loadbench/testdata compiled into the
// binary. Without --target, --gateway measures gateway-proxy (route /plain,
// proxied to the backend) and gateway-mock (route /mock, answered by the
// gateway) from builtin:gateway.hcl.
//
// Targets send GET. --body name=FILE (repeatable; name is a --target, direct
// or bareproxy) makes every request of that target a POST of FILE's bytes
// with Content-Type: application/json and its Content-Length: the readiness
// check, the load (built-in generator or a generated wrk Lua script) and the
// --idle requests. FILE is a path, or builtin:NAME for a compiled-in file of
// cmd/loadbench/testdata such as order2k.json, the ~2 KiB order the
// request-validator benchmarks use (validation.hcl's /plain/7 and
// /validated/7 take it). load takes --body FILE the same way.
//
// Rounds are interleaved (round 1 of every target, then round 2, ...), each
// after its own warm-up. The markdown table gives requests/s (median of the
// rounds), p50 and p99 latency (over all rounds), errors, non-2xx responses,
// both ratios to the bare proxy, and each server's peak RSS (VmHWM).
//
// The built-in load generator is closed-loop like wrk: each connection is a raw
// keep-alive TCP connection with one request outstanding, writing a prebuilt
// GET (or POST) and parsing the response itself (status line, Content-Length
// or chunked body, Connection: close), with latencies in a fixed-bucket
// log-linear histogram.
// --wrk uses wrk from PATH instead, to check that the generator is not the
// bottleneck.
//
// backend answers 200 with a ~100-byte JSON body (?size=N for N bytes,
// ?delay=2ms to wait first); backend and bareproxy print "listening on ADDR"
// as their first line. idle opens N keep-alive connections, sends one request
// on each and reports the server's VmRSS per idle connection; it raises
// RLIMIT_NOFILE to the hard limit first. load runs the built-in generator
// against one URL.
//
// wsidle and wsrtt measure managed WebSocket APIs. Each starts the backend and
// one gateway on builtin:websocket.hcl (--template), which must serve GET
// /ready. wsidle raises RLIMIT_NOFILE (the gateway inherits it), waits for
// the gateway's VmRSS to settle, opens N connections with raw handshakes
// (fixed Sec-WebSocket-Key; the 101 and its Sec-WebSocket-Accept are
// checked), waits for VmRSS to settle again with every connection idle, and
// reports VmRSS before, after and per connection with the gateway's
// gateway_websocket_connections gauge from the admin /metrics. It then reads
// /debug/pprof/goroutine?debug=1 and /debug/pprof/heap?debug=1&gc=1 from the
// admin listener (after each VmRSS reading, so nothing is forced before one)
// for runtime.MemStats deltas, the top in-use heap allocation sites and the
// goroutines per connection; the heap sites are sampled unless the gateway
// runs with GODEBUG=memprofilerate=1. wsrtt opens C connections (coder/websocket)
// to each two-way route in turn; each sends {"action":"echo","n":N} and waits
// for the reply, which must be the message itself, and reports messages/s and
// round-trip p50, p90, p99 and max. Its default targets are the wsecho
// function (/ws/fn) and an upstream route POSTing to the backend (/ws/upstream),
// which answers a POST with its body.
package main
