// Command wsecho answers every WebSocket message with the message itself: the
// function behind the two-way echo route of the WebSocket load benchmark
// (loadbench wsrtt, cmd/loadbench/testdata/websocket.hcl).
//
//	function "wsecho" {
//	  source = "bin/functions/wsecho.wasm"
//	}
//	websocket_api "echo" {
//	  path = "/ws"
//	  route "$default" {
//	    function = function.wsecho
//	    two_way  = true
//	  }
//	}
//
// A binary message arrives base64-encoded and goes back the same way, so the
// client gets back the bytes it sent. $connect and $disconnect events, which
// have no body, are answered 200 with no body.
package main

import (
	"context"

	"github.com/wasmgate/gateway/sdk/go/function"
)

func init() {
	function.HandleWebSocket(func(_ context.Context, ev function.WebSocketEvent) (function.Response, error) {
		return function.Response{StatusCode: 200, Body: ev.Body, IsBase64Encoded: ev.IsBase64Encoded}, nil
	})
}

func main() {}
