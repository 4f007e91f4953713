// Command noop is a test plugin whose only phase does nothing.
package main

import "github.com/wasmgate/gateway/sdk/go/plugin"

func init() {
	plugin.Handle(plugin.Handler{
		OnRequestHeaders: func(plugin.Request) plugin.Action { return plugin.Continue },
	})
}

func main() {}
