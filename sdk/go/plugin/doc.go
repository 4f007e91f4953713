// Package plugin is the Go SDK for gateway plugins (ABI v1, package abi).
//
// Build a plugin with stock Go as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o my.wasm ./my-plugin
//
// A c-shared module never runs main: the host calls _initialize, which runs
// package init functions, so a plugin registers its handlers in init:
//
//	func init() {
//		plugin.Handle(plugin.Handler{
//			OnRequestHeaders: func(req plugin.Request) plugin.Action {
//				req.Header().Set("X-Hello", "world")
//				return plugin.Continue
//			},
//		})
//	}
//
//	func main() {}
//
// The SDK itself defines every ABI export (the gateway_abi_v1 marker, on_configure
// and all phases) and tells the host, during on_configure, which phases have a
// handler, so unused phases cost nothing.
//
// In native builds (plain go test) host calls go to the fake installed by
// sdk/go/plugintest, so plugin logic is unit-testable without wasm.
package plugin
