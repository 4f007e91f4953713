//go:build guestprof

package wasmtest

// ldflags keeps the module's name section under -tags guestprof, so that
// the gateway's guest profiler (host/wasm/guestprof.go) can name functions.
const ldflags = ""
