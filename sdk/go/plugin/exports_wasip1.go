//go:build wasip1

package plugin

import "github.com/wasmgate/gateway/sdk/go/internal/hostapi"

// The SDK defines every guest export; go:wasmexport functions in a linked,
// non-main package are exported from the c-shared module. Names must match
// abi.Export… (go:wasmexport cannot take a constant).

//go:wasmexport gateway_abi_v1
func gatewayABIV1() {}

//go:wasmexport on_configure
func onConfigure(configLen int32) int32 { return hostapi.Registered().OnConfigure(configLen) }

//go:wasmexport on_request_headers
func onRequestHeaders() uint32 { return hostapi.Registered().OnRequestHeaders() }

//go:wasmexport on_request_body
func onRequestBody() uint32 { return hostapi.Registered().OnRequestBody() }

//go:wasmexport on_response_headers
func onResponseHeaders() uint32 { return hostapi.Registered().OnResponseHeaders() }

//go:wasmexport on_response_body
func onResponseBody() uint32 { return hostapi.Registered().OnResponseBody() }

//go:wasmexport on_log
func onLog() { hostapi.Registered().OnLog() }
