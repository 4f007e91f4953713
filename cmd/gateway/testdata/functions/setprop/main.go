// Command setprop is a test plugin that copies X-User into the request
// property auth.principal, as an authorizer would.
package main

import "github.com/wasmgate/gateway/sdk/go/plugin"

func init() {
	plugin.Handle(plugin.Handler{
		OnRequestHeaders: func(req plugin.Request) plugin.Action {
			if u := req.Header().Get("X-User"); u != "" {
				req.SetProperty("auth.principal", u)
			}
			return plugin.Continue
		},
		OnResponseHeaders: func(_ plugin.Request, resp plugin.Response) plugin.Action {
			resp.Header().Set("X-After-Function", "yes")
			return plugin.Continue
		},
	})
}

func main() {}
