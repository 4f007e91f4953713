// Command add-header is an example gateway plugin that adds the headers of its
// config to the request sent upstream and to the response sent to the client.
//
//	plugin "add-header" {
//	  source = "add-header.wasm"
//	  config = {
//	    request  = { "X-Gateway" = "wasmgate" }
//	    response = { "X-Frame-Options" = "DENY" }
//	  }
//	}
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o add-header.wasm ./examples/plugins/add-header
package main

import (
	"errors"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	Request  map[string]string `json:"request"`
	Response map[string]string `json:"response"`
}

// cfg is set once per instance by OnConfigure; an instance is single-threaded.
var cfg Config

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: func(raw []byte) error {
			cfg = Config{}
			if err := plugin.DecodeConfig(raw, &cfg); err != nil {
				return err
			}
			if len(cfg.Request) == 0 && len(cfg.Response) == 0 {
				return errors.New("set at least one header in request or response")
			}
			return nil
		},
		OnRequestHeaders: func(req plugin.Request) plugin.Action {
			h := req.Header()
			for k, v := range cfg.Request {
				h.Set(k, v)
			}
			return plugin.Continue
		},
		OnResponseHeaders: func(_ plugin.Request, resp plugin.Response) plugin.Action {
			h := resp.Header()
			for k, v := range cfg.Response {
				h.Set(k, v)
			}
			return plugin.Continue
		},
	})
}

func main() {}
