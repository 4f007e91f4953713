// Command probe is the function the end-to-end tests drive: the last path
// segment picks a behaviour.
package main

import (
	"context"
	"errors"
	"os"
	"path"

	"github.com/wasmgate/gateway/sdk/go/function"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

func init() {
	function.HandleFunc(handle)
}

func handle(_ context.Context, ev function.Event) (function.Response, error) {
	switch path.Base(ev.RawPath) {
	case "echo":
		r := function.JSON(201, ev)
		r.Headers["X-Fn"] = "probe"
		r.MultiValueHeaders = map[string][]string{"X-Multi": {"a", "b"}}
		r.Cookies = []string{"session=abc; Path=/; HttpOnly", "theme=dark"}
		return r, nil
	case "binary":
		b, err := ev.BodyBytes()
		if err != nil {
			return function.Response{}, err
		}
		return function.Binary(200, "application/octet-stream", append(b, 0xff, 0x00)), nil
	case "env":
		return function.JSON(200, map[string]string{"greeting": os.Getenv("GREETING"), "config": string(plugin.Config())}), nil
	case "timeout":
		for {
		}
	case "panic":
		var m map[string]int
		m["boom"]++
		return function.Response{}, nil
	case "error":
		return function.Response{}, errors.New("probe: asked to fail")
	case "malformed":
		return function.Response{StatusCode: 200, Body: "%%% not base64", IsBase64Encoded: true}, nil
	case "wait":
		resp, err := plugin.HTTPCall(plugin.HTTPRequest{Upstream: "blocker", Method: "GET", Path: "/wait"})
		if err != nil {
			return function.Response{}, err
		}
		return function.Text(resp.Status, string(resp.Body)), nil
	}
	return function.Text(404, "unknown probe "+ev.RawPath), nil
}

func main() {}
