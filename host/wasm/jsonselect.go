package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/jsonsel"
)

// hostJSONSelect implements abi.FuncJSONSelect.
func hostJSONSelect(_ context.Context, in *instance, s []uint64) {
	const fn = abi.FuncJSONSelect
	doc := in.read(fn, s[0], s[1])
	list := in.read(fn, s[2], s[3])
	out, rc := jsonsel.ABI(doc, list, in.scratch[:0])
	if rc < 0 {
		s[0] = api.EncodeI32(rc)
		return
	}
	in.scratch = out
	s[0] = in.writeBytes(fn, s[4], s[5], out)
}
