// Package conformance is the plugin conformance suite: one set of behaviours
// (read config, add and remove headers, rewrite the path, read and replace
// the body, short-circuit with 401, use KV, emit a metric, log, compute
// digests on the host) implemented by a plugin in every SDK language (go/,
// rust/, c/ with and without wasi-libc, assemblyscript/, wat/) and checked by
// one Go test table through the real host (host/wasm and host/pipeline).
// README.md lists the behaviours.
//
// An SDK is done when its plugin passes the suite. A language whose
// toolchain is missing is skipped with the install command; with
// CONFORMANCE_REQUIRE=all (set by .ci/run) it fails instead.
package conformance
