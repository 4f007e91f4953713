// Command loadbench is the load benchmark behind `make bench`: it measures the
// gateway against the backend served directly and against a bare
// httputil.ReverseProxy, on loopback, in one run.
//
//	loadbench run [--gateway bin/gateway] [--target name=template.hcl[:/path]]...
//	              [--rounds 3] [--duration 5s] [--warmup 1s] [--conns 64]
//	              [--path /] [--timeout 10s] [--wrk] [--wrk-threads N]
//	              [--idle 10000] [--json FILE]
//	loadbench load      --url URL [--conns 64] [--duration 5s]
//	loadbench backend   [--addr 127.0.0.1:0]
//	loadbench bareproxy --upstream URL [--addr 127.0.0.1:0]
//	loadbench idle      --url URL --pid PID [--conns 10000] [--timeout 60s]
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
// Rounds are interleaved (round 1 of every target, then round 2, ...), each
// after its own warm-up. The markdown table gives requests/s (median of the
// rounds), p50 and p99 latency (over all rounds), errors, non-2xx responses,
// both ratios to the bare proxy, and each server's peak RSS (VmHWM).
//
// The built-in load generator is closed-loop like wrk: each connection is a raw
// keep-alive TCP connection with one request outstanding, writing a prebuilt GET
// and parsing the response itself (status line, Content-Length or chunked body,
// Connection: close), with latencies in a fixed-bucket log-linear histogram.
// --wrk uses wrk from PATH instead, to check that the generator is not the
// bottleneck.
//
// backend answers 200 with a ~100-byte JSON body (?size=N for N bytes,
// ?delay=2ms to wait first); backend and bareproxy print "listening on ADDR"
// as their first line. idle opens N keep-alive connections, sends one request
// on each and reports the server's VmRSS per idle connection; it raises
// RLIMIT_NOFILE to the hard limit first. load runs the built-in generator
// against one URL.
package main
