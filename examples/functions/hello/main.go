// Command hello is the smallest useful function: it greets the {name} path
// parameter (or "world") and is the function route of the load benchmark.
//
//	function "hello" {
//	  source = "bin/functions/hello.wasm"
//	}
//	route "GET /hello/{name}" {
//	  function = function.hello
//	}
package main

import (
	"context"

	"github.com/wasmgate/gateway/sdk/go/function"
)

// textHeaders are the headers of every response. The gateway only reads a
// response's headers, so responses can share one map: a map per response
// is two allocations and a hashed insert in the guest, a sizeable part of
// what a call this small costs.
var textHeaders = map[string]string{"Content-Type": "text/plain; charset=utf-8"}

func init() {
	function.HandleFunc(func(_ context.Context, ev function.Event) (function.Response, error) {
		name := ev.PathParameters["name"]
		if name == "" {
			name = "world"
		}
		return function.Response{StatusCode: 200, Headers: textHeaders, Body: "hello, " + name + "\n"}, nil
	})
}

func main() {}
