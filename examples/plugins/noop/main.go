// Command noop is the smallest useful Go plugin: it runs in the request-headers
// phase and lets every request through. It is the starting point for a new
// plugin and the baseline of the plugin benchmarks (`make bench`).
//
//	plugin "noop" {
//	  source = "bin/plugins/noop.wasm"
//	}
package main

import "github.com/wasmgate/gateway/sdk/go/plugin"

func init() {
	plugin.Handle(plugin.Handler{
		OnRequestHeaders: func(plugin.Request) plugin.Action { return plugin.Continue },
	})
}

func main() {}
