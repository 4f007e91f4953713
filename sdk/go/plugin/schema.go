package plugin

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/wasmgate/gateway/abi"
)

// schemaHost is the optional host capability behind CompileSchema. It is
// separate from hostapi.Host so that fakes without it keep compiling.
type schemaHost interface {
	JSONSchemaCompile(src []byte, draft int32) int32
	JSONSchemaError() string
	// JSONValidate returns the result and, when it is positive, the reasons
	// in the ABI's list form.
	JSONValidate(id int32, doc []byte) (int32, []byte)
}

// HostSchema reports whether the host validates JSON Schemas natively
// (abi.FeatureJSONSchema). Check it once, in OnConfigure.
func HostSchema() bool {
	_, ok := host().(schemaHost)
	return ok && Features()&abi.FeatureJSONSchema != 0
}

// Schema is a JSON Schema compiled by the host (CompileSchema).
type Schema struct{ id int32 }

// SchemaError is one reason a document does not match a Schema.
type SchemaError struct {
	Pointer string `json:"pointer"` // JSON pointer into the document; "" is all of it
	Reason  string `json:"reason"`
}

// schemaDrafts maps draft names to abi.SchemaDraft* codes.
var schemaDrafts = map[string]int32{
	"": abi.SchemaDraftDefault, "2020-12": abi.SchemaDraft2020, "2020": abi.SchemaDraft2020,
	"2019-09": abi.SchemaDraft2019, "2019": abi.SchemaDraft2019,
	"7": abi.SchemaDraft7, "draft-07": abi.SchemaDraft7, "draft7": abi.SchemaDraft7,
	"6": abi.SchemaDraft6, "draft-06": abi.SchemaDraft6, "draft6": abi.SchemaDraft6,
	"4": abi.SchemaDraft4, "draft-04": abi.SchemaDraft4, "draft4": abi.SchemaDraft4,
}

// SchemaDraft is the abi.SchemaDraft* code of a draft name: "4", "6", "7",
// "2019-09", "2020-12" (also "draft-07", "2020", ...); "" is 2020-12.
func SchemaDraft(name string) (int32, error) {
	code, ok := schemaDrafts[name]
	if !ok {
		return 0, fmt.Errorf("draft %q is not supported; use \"4\", \"6\", \"7\", \"2019-09\" or \"2020-12\"", name)
	}
	return code, nil
}

// CompileSchema has the host compile the JSON Schema text src, once per
// instance: call it in OnConfigure. draft ("4", "6", "7", "2019-09",
// "2020-12"; "" is 2020-12) applies to a schema without $schema. The schema
// must be self-contained: a $ref to another document is an error, and the
// host never loads files or URLs for it.
//
// It returns ErrUnavailable when the host lacks abi.FeatureJSONSchema
// (validate in the guest instead), or an error saying why the schema does not
// compile.
func CompileSchema(src []byte, draft string) (Schema, error) {
	code, err := SchemaDraft(draft)
	if err != nil {
		return Schema{}, err
	}
	h, ok := host().(schemaHost)
	if !ok || Features()&abi.FeatureJSONSchema == 0 {
		return Schema{}, ErrUnavailable
	}
	id := h.JSONSchemaCompile(src, code)
	switch {
	case id >= 0:
		return Schema{id: id}, nil
	case id == abi.ResultInvalid || id == abi.ResultTooLarge:
		return Schema{}, errors.New(h.JSONSchemaError())
	}
	return Schema{}, result(id)
}

// Validate checks the JSON text doc natively. It returns nil, nil when doc is
// valid, and the reasons when it is not (a document that does not parse is
// one reason, "malformed JSON: ..."). The error is for misuse only (a Schema
// not compiled by this instance).
func (s Schema) Validate(doc []byte) ([]SchemaError, error) {
	h, ok := host().(schemaHost)
	if !ok {
		return nil, ErrUnavailable
	}
	rc, list := h.JSONValidate(s.id, doc)
	switch {
	case rc == 0:
		return nil, nil
	case rc < 0:
		return nil, result(rc)
	}
	var out []SchemaError
	for len(list) > 0 {
		p, rest, _ := bytes.Cut(list, []byte{0})
		r, rest, _ := bytes.Cut(rest, []byte{0})
		out = append(out, SchemaError{Pointer: string(p), Reason: string(r)})
		list = rest
	}
	if len(out) == 0 { // the host said invalid but sent no reason
		out = []SchemaError{{Reason: "does not match the schema"}}
	}
	return out, nil
}
