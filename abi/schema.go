package abi

// JSON Schema validation by the host (abi/ABI.md, "json_schema_compile"):
// a guest compiles its schemas once, in on_configure, and validates documents
// against them natively, about 7x faster than a validator inside the guest.
const (
	// FeatureJSONSchema (a FuncFeatures bit): the json_schema_* functions
	// validate natively.
	FeatureJSONSchema uint64 = 1 << 5

	// FuncJSONSchemaCompile: (schema_ptr, schema_len, draft i32) -> id |
	// ResultInvalid | ResultTooLarge | ResultWrongPhase. Compiles the JSON
	// Schema text; draft is a SchemaDraft* code used when the schema has no
	// $schema. id (>= 0) names the schema in this instance. Only during
	// on_configure. ResultInvalid: the schema does not compile (the reason is
	// in FuncJSONSchemaError); ResultTooLarge: over MaxSchemas.
	FuncJSONSchemaCompile = "json_schema_compile"
	// FuncJSONSchemaError: (buf, limit) -> len. Why the last
	// FuncJSONSchemaCompile of this instance failed ("" if none did).
	FuncJSONSchemaError = "json_schema_error"
	// FuncJSONValidate: (id, doc_ptr, doc_len, buf, limit) -> len |
	// ResultNotFound. Validates the JSON text doc against schema id. 0: valid.
	// len > 0: invalid, and buf+limit holds the reasons as a list of pairs
	// (JSON pointer NUL reason NUL)..., at most MaxSchemaErrors of them; a
	// document that does not parse is one pair ("", "malformed JSON: ...").
	// ResultNotFound: id was not compiled by this instance.
	FuncJSONValidate = "json_validate"

	// MaxSchemas is how many schemas one instance may compile.
	MaxSchemas = 64
	// MaxSchemaErrors caps the reasons FuncJSONValidate returns.
	MaxSchemaErrors = 64
)

// Draft codes for FuncJSONSchemaCompile.
const (
	SchemaDraftDefault int32 = 0 // 2020-12
	SchemaDraft4       int32 = 4
	SchemaDraft6       int32 = 6
	SchemaDraft7       int32 = 7
	SchemaDraft2019    int32 = 2019 // 2019-09
	SchemaDraft2020    int32 = 2020 // 2020-12
)
