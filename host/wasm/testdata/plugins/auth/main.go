// Command auth is a test plugin: it answers 401 without X-User and otherwise
// sets the auth.principal property for later plugins.
package main

import "github.com/wasmgate/gateway/sdk/go/plugin"

func init() {
	plugin.Handle(plugin.Handler{
		OnRequestHeaders: func(req plugin.Request) plugin.Action {
			user := req.Header().Get("X-User")
			if user == "" {
				return plugin.Unauthorized()
			}
			req.SetProperty("auth.principal", user)
			return plugin.Continue
		},
		OnResponseHeaders: func(_ plugin.Request, resp plugin.Response) plugin.Action {
			resp.Header().Set("X-Auth-Saw-Status", itoa(resp.Status()))
			return plugin.Continue
		},
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func main() {}
