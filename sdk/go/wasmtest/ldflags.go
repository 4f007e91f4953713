//go:build !guestprof

package wasmtest

// ldflags strips the module's symbols, as `make plugins` does.
const ldflags = "-s"
