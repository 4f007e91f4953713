// Command probe is the Go function the host/wasm tests drive; the event's
// rawPath picks a behaviour.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/wasmgate/gateway/sdk/go/function"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

func init() {
	function.HandleFunc(func(_ context.Context, ev function.Event) (function.Response, error) {
		switch ev.RawPath {
		case "/echo":
			return function.JSON(200, ev), nil
		case "/headers": // the event's headers as the response's
			return function.Response{StatusCode: 200, Headers: ev.Headers}, nil
		case "/env":
			return function.Text(200, os.Getenv("GREETING")+" "+string(plugin.Config())), nil
		case "/kv":
			if err := plugin.KVSet("k", []byte(ev.Body), 0); err != nil {
				return function.Response{}, err
			}
			return function.Text(200, "stored"), nil
		case "/call":
			r, err := plugin.HTTPCall(plugin.HTTPRequest{Upstream: "backend", Path: "/block"})
			if err != nil {
				return function.Response{}, err
			}
			return function.Text(r.Status, string(r.Body)), nil
		case "/spin": // busy for 300ms, then answers
			for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
			}
			return function.Text(200, "spun"), nil
		case "/loop":
			for {
			}
		case "/panic":
			panic("probe: panic requested")
		case "/error":
			return function.Response{}, errors.New("probe: error requested")
		case "/badstatus":
			return function.Response{StatusCode: 999}, nil
		case "/badbase64":
			return function.Response{Body: "%%%", IsBase64Encoded: true}, nil
		}
		return function.Text(404, "unknown "+ev.RawPath), nil
	})
}

func main() {}
