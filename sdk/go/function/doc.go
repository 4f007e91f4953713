// Package function is the Go SDK for gateway function backends: Wasm modules
// that answer routes themselves, the way AWS Lambda functions answer API
// Gateway routes (abi.ExportHandleEvent, abi/ABI.md "Function backends").
//
// A function is a WASI reactor built with stock Go:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o hello.wasm ./hello
//
// It registers its handler in init (a c-shared module never runs main):
//
//	func init() {
//		function.HandleFunc(func(ctx context.Context, ev function.Event) (function.Response, error) {
//			return function.JSON(200, map[string]string{"hello": ev.PathParameters["name"]}), nil
//		})
//	}
//
//	func main() {}
//
// The event is the API Gateway HTTP API payload format 2.0 and the response
// has the same shape as a Lambda proxy response. A returned error becomes a
// 502 {"message":"Internal server error"} and is logged. Functions use the
// host's KV store, logging, metrics and declared HTTP calls through package
// plugin (plugin.KVGet, plugin.LogInfo, plugin.NewCounter, plugin.HTTPCall),
// and read their config block with plugin.Config or plugin.DecodeConfig.
// A function module must not also call plugin.Handle.
//
// In native builds (plain go test) install the plugintest fake host and call
// Invoke, which runs the handler with the same JSON round trip as the gateway:
//
//	h := plugintest.New(t, `{}`)
//	resp, err := function.Invoke(function.Event{RouteKey: "GET /hello"})
//	// h.KV, h.Logs and h.Metrics hold what the function did.
package function
