package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/schema"
)

// schemaCache returns p's cache of compiled schemas, shared by its instances.
func (p *Plugin) schemaCache() *schema.Cache {
	p.schemaOnce.Do(func() { p.schemas = schema.NewCache(abi.MaxSchemas) })
	return p.schemas
}

// schemaTable returns in's compiled schemas (abi.FuncJSONSchemaCompile).
func (in *instance) schemaTable() *schema.Table {
	if in.schemas == nil {
		in.schemas = schema.NewTable(in.p.schemaCache())
	}
	return in.schemas
}

func hostJSONSchemaCompile(_ context.Context, in *instance, s []uint64) {
	src := in.read(abi.FuncJSONSchemaCompile, s[0], s[1])
	if !in.configuring {
		s[0] = api.EncodeI32(abi.ResultWrongPhase)
		return
	}
	s[0] = api.EncodeI32(in.schemaTable().Compile(src, api.DecodeI32(s[2])))
}

func hostJSONSchemaError(_ context.Context, in *instance, s []uint64) {
	s[0] = in.writeString(abi.FuncJSONSchemaError, s[0], s[1], in.schemaTable().LastError())
}

func hostJSONValidate(_ context.Context, in *instance, s []uint64) {
	const fn = abi.FuncJSONValidate
	doc := in.read(fn, s[1], s[2])
	rc, out := in.schemaTable().Validate(api.DecodeI32(s[0]), doc)
	if rc <= 0 {
		s[0] = api.EncodeI32(rc)
		return
	}
	s[0] = in.writeBytes(fn, s[3], s[4], out)
}
