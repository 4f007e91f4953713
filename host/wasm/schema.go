package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/schema"
)

// schemaState is an instance's compiled schemas (abi.FuncJSONSchemaCompile):
// ids index list.
type schemaState struct {
	list    []*schema.Schema
	lastErr string
	out     []byte // reasons of the last invalid document, reused
}

// schemaCache returns p's cache of compiled schemas, shared by its instances.
func (p *Plugin) schemaCache() *schema.Cache {
	p.schemaOnce.Do(func() { p.schemas = schema.NewCache(abi.MaxSchemas) })
	return p.schemas
}

func hostJSONSchemaCompile(_ context.Context, in *instance, s []uint64) {
	const fn = abi.FuncJSONSchemaCompile
	src := in.read(fn, s[0], s[1])
	draft := api.DecodeI32(s[2])
	switch {
	case !in.configuring:
		s[0] = api.EncodeI32(abi.ResultWrongPhase)
		return
	case len(in.schemas.list) >= abi.MaxSchemas:
		in.schemas.lastErr = "an instance may compile at most 64 schemas"
		s[0] = api.EncodeI32(abi.ResultTooLarge)
		return
	}
	sch, err := in.p.schemaCache().Compile(src, draft)
	if err != nil {
		in.schemas.lastErr = err.Error()
		s[0] = api.EncodeI32(abi.ResultInvalid)
		return
	}
	in.schemas.lastErr = ""
	in.schemas.list = append(in.schemas.list, sch)
	s[0] = api.EncodeI32(int32(len(in.schemas.list) - 1))
}

func hostJSONValidate(_ context.Context, in *instance, s []uint64) {
	const fn = abi.FuncJSONValidate
	id := api.DecodeI32(s[0])
	doc := in.read(fn, s[1], s[2])
	if id < 0 || int(id) >= len(in.schemas.list) {
		s[0] = api.EncodeI32(abi.ResultNotFound)
		return
	}
	errs := schema.Validate(in.schemas.list[id], doc)
	if errs == nil {
		s[0] = 0
		return
	}
	in.schemas.out = schema.AppendErrors(in.schemas.out[:0], errs)
	s[0] = in.writeBytes(fn, s[3], s[4], in.schemas.out)
}
