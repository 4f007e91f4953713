package wasm

import (
	"context"
	"errors"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
)

// Connections reaches the clients of managed WebSocket APIs for
// connection_send and connection_close. The gateway supplies it.
type Connections interface {
	// Send delivers data to connection id on any instance.
	Send(ctx context.Context, id string, data []byte) error
	// Disconnect closes connection id.
	Disconnect(ctx context.Context, id string) error
}

// Errors a Connections implementation wraps, mapped to Result codes.
var (
	// ErrConnectionGone: no such connection (ResultNotFound).
	ErrConnectionGone = errors.New("websocket connection is gone")
	// ErrMessageTooLarge: over the API's max_message_size (ResultTooLarge).
	ErrMessageTooLarge = errors.New("websocket message is too large")
)

// connectionCallTimeout bounds one connection_send or connection_close; the
// guest's own deadline applies too.
const connectionCallTimeout = 10 * time.Second

func hostConnectionSend(ctx context.Context, in *instance, s []uint64) {
	id := string(in.read(abi.FuncConnectionSend, s[0], s[1]))
	data := append([]byte(nil), in.read(abi.FuncConnectionSend, s[2], s[3])...)
	connectionCall(ctx, in, s, func(ctx context.Context, c Connections) error { return c.Send(ctx, id, data) })
}

func hostConnectionClose(ctx context.Context, in *instance, s []uint64) {
	id := string(in.read(abi.FuncConnectionClose, s[0], s[1]))
	connectionCall(ctx, in, s, func(ctx context.Context, c Connections) error { return c.Disconnect(ctx, id) })
}

// connectionCall runs call on the host's Connections within
// connectionCallTimeout and stores its Result in s[0].
func connectionCall(ctx context.Context, in *instance, s []uint64, call func(context.Context, Connections) error) {
	conns := in.p.h.opts.Connections
	if conns == nil {
		s[0] = api.EncodeI32(abi.ResultUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, connectionCallTimeout)
	defer cancel()
	s[0] = api.EncodeI32(connectionResult(call(ctx, conns)))
}

func connectionResult(err error) int32 {
	switch {
	case err == nil:
		return abi.ResultOK
	case errors.Is(err, ErrConnectionGone):
		return abi.ResultNotFound
	case errors.Is(err, ErrMessageTooLarge):
		return abi.ResultTooLarge
	default:
		return abi.ResultInvalid
	}
}
