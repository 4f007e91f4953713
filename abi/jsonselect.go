package abi

// JSON selection by the host (abi/ABI.md, "json_select"): a guest names
// values of a JSON document by JSON Pointer and gets their raw text, found
// natively in one pass, instead of scanning the document itself (a Go guest
// spends tens of µs on a 2 KiB body in wasm; the host, 2–3 µs).
const (
	// FeatureJSONSelect (a FuncFeatures bit): json_select is available.
	FeatureJSONSelect uint64 = 1 << 6

	// FuncJSONSelect: (doc_ptr, doc_len, ptrs_ptr, ptrs_len, buf, limit) ->
	// len | ResultInvalid | ResultTooLarge. ptrs is a list of JSON Pointers
	// (RFC 6901), each NUL-terminated; "" is the whole document. On success
	// buf+limit holds one NUL-terminated item per pointer, in order: the raw
	// JSON text of the value it selects, or an empty item when it selects
	// nothing. ResultInvalid: doc is not exactly one JSON value (as
	// encoding/json decodes it: whitespace around it allowed, nesting up to
	// 10000) or a pointer is malformed; ResultTooLarge: over MaxSelectPointers.
	// A repeated object member counts once, with its last value.
	FuncJSONSelect = "json_select"

	// MaxSelectPointers is how many pointers one json_select call may name.
	MaxSelectPointers = 256
)
