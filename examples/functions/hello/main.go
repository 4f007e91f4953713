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

func init() {
	function.HandleFunc(func(_ context.Context, ev function.Event) (function.Response, error) {
		name := ev.PathParameters["name"]
		if name == "" {
			name = "world"
		}
		return function.Response{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			Body:       "hello, " + name + "\n",
		}, nil
	})
}

func main() {}
