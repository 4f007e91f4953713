//go:build wasip1

package plugin

import "unsafe"

// The json_schema_* and json_select imports (abi/schema.go,
// abi/jsonselect.go). The literals must match package abi;
// TestSchemaImportNames checks.

//go:wasmimport gateway_v1 json_schema_compile
func hJSONSchemaCompile(src unsafe.Pointer, srcLen uint32, draft int32) int32

//go:wasmimport gateway_v1 json_schema_error
func hJSONSchemaError(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport gateway_v1 json_validate
func hJSONValidate(id int32, doc unsafe.Pointer, docLen uint32, buf unsafe.Pointer, limit uint32) int32

// JSONSchemaCompile implements schemaHost with the gateway_v1 import.
func (wasmHost) JSONSchemaCompile(src []byte, draft int32) int32 {
	p, n := bp(src)
	return hJSONSchemaCompile(p, n, draft)
}

// JSONSchemaError implements schemaHost.
func (wasmHost) JSONSchemaError() string { return getS(hJSONSchemaError) }

// JSONValidate implements schemaHost. The reasons are a view of the shared
// read buffer, valid until the next host call.
func (wasmHost) JSONValidate(id int32, doc []byte) (int32, []byte) {
	p, n := bp(doc)
	rc := hJSONValidate(id, p, n, unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)))
	if rc <= 0 || int(rc) <= len(buf) {
		if rc <= 0 {
			return rc, nil
		}
		return rc, buf[:rc]
	}
	// The reasons did not fit: validate again with room for them.
	buf = make([]byte, rc)
	rc = hJSONValidate(id, p, n, unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)))
	if rc <= 0 || int(rc) > len(buf) {
		return rc, nil
	}
	return rc, buf[:rc]
}

//go:wasmimport gateway_v1 json_select
func hJSONSelect(doc unsafe.Pointer, docLen uint32, list unsafe.Pointer, listLen uint32, buf unsafe.Pointer, limit uint32) int32

// JSONSelect implements jsonSelectHost. The values are a view of the shared
// read buffer, valid until the next host call.
func (wasmHost) JSONSelect(doc, list []byte) (int32, []byte) {
	dp, dn := bp(doc)
	lp, ln := bp(list)
	b, rc := read(func(p unsafe.Pointer, limit uint32) int32 { return hJSONSelect(dp, dn, lp, ln, p, limit) })
	return rc, b
}
