// Package abi is the single Go source of the gateway plugin ABI, version 1.
//
// Both the host (host/wasm) and the Go SDK (sdk/go) import it, so a name or a
// number is written exactly once. It imports nothing, not even fmt, so guests that
// link it stay small. abi/ABI.md is the prose specification; other SDKs copy
// their constants from there.
//
// Conventions shared by every host function:
//
//   - All pointers and lengths are i32 offsets into the guest's exported "memory".
//     The host bounds-checks every one; a bad pointer traps the guest with a
//     message naming the function, and the instance is discarded.
//   - Values are returned with the buffer+limit pattern (from http-wasm): the
//     guest passes buf and limit; the host writes the value only if it fits and
//     returns its real length either way. A result greater than limit means
//     "nothing written, retry with a buffer of at least that size". The host never
//     allocates in guest memory.
//   - Negative i32 results are Result codes (ResultNotFound, ...).
//   - Lists (header values, header names, HTTP-call headers) are NUL-separated
//     strings: "a\x00b\x00" (each item followed by NUL).
package abi

// HostModule is the import module name of every host function. Its name carries
// the major version: a breaking change gets a new module name.
const HostModule = "gateway_v1"

// WASIModule is the only other import module a guest may use. The host gives it
// no filesystem, no environment, no arguments, discards stdout and routes
// stderr to the log; clocks are real and random_get is crypto/rand.
const WASIModule = "wasi_snapshot_preview1"

// BufLimit is the capacity in bytes of a guest buffer passed to a host
// function. When the value is longer than the limit, the host writes nothing and
// returns the needed length.
type BufLimit = uint32

// Guest exports.
const (
	// ExportMemory is the guest's linear memory. Required.
	ExportMemory = "memory"
	// ExportInitialize is the WASI reactor initializer, run once per instance
	// before anything else when exported.
	ExportInitialize = "_initialize"
	// ExportABIMarkerPrefix prefixes the version marker export.
	ExportABIMarkerPrefix = "gateway_abi_v"
	// ExportABIV1 is the version marker: a no-op function "() -> ()" a v1 guest
	// must export. Required.
	ExportABIV1 = "gateway_abi_v1"
	// ExportOnConfigure is "(config_len i32) -> i32", called once per instance
	// after _initialize. Non-zero rejects the config; the reason is the text
	// passed to FuncSetError. Optional.
	ExportOnConfigure = "on_configure"
	// ExportOnRequestHeaders is "() -> i32 Action". Optional phase.
	ExportOnRequestHeaders = "on_request_headers"
	// ExportOnRequestBody is "() -> i32 Action", called with the whole request
	// body buffered. Optional phase.
	ExportOnRequestBody = "on_request_body"
	// ExportOnResponseHeaders is "() -> i32 Action". Optional phase.
	ExportOnResponseHeaders = "on_response_headers"
	// ExportOnResponseBody is "() -> i32 Action", called with the whole response
	// body buffered. Optional phase.
	ExportOnResponseBody = "on_response_body"
	// ExportOnLog is "() -> ()", always run last for every plugin that was
	// acquired for the request; it sees the final status. Optional phase.
	ExportOnLog = "on_log"
)

// Action is what a phase returns.
type Action = uint32

// The phase results.
const (
	// ActionContinue continues with the next plugin or the upstream.
	ActionContinue Action = 0
	// ActionRespond stops processing and sends the response built with
	// FuncSendResponse (or the response status and headers set so far).
	ActionRespond Action = 1
)

// HeaderKind selects the header map a header function works on.
type HeaderKind = uint32

// The header maps.
const (
	HeaderKindRequest  HeaderKind = 0
	HeaderKindResponse HeaderKind = 1
)

// LogLevel is the level passed to FuncLog. Values follow log/slog.
type LogLevel = int32

// The log levels.
const (
	LogLevelDebug LogLevel = -4
	LogLevelInfo  LogLevel = 0
	LogLevelWarn  LogLevel = 4
	LogLevelError LogLevel = 8
)

// MetricKind is the kind passed to FuncMetricDefine.
type MetricKind = uint32

// The metric kinds.
const (
	MetricKindCounter   MetricKind = 0
	MetricKindGauge     MetricKind = 1
	MetricKindHistogram MetricKind = 2
)

// TLSField selects the value FuncTLSInfoGet returns. Every field is empty on a
// plaintext connection.
type TLSField = uint32

// The TLS fields.
const (
	TLSFieldVersion     TLSField = 0 // "TLS 1.3"
	TLSFieldCipher      TLSField = 1 // "TLS_AES_128_GCM_SHA256"
	TLSFieldServerName  TLSField = 2 // SNI
	TLSFieldPeerSubject TLSField = 3 // client certificate subject, RFC 2253
)

// KVFlag modifies FuncKVCAS.
type KVFlag = uint32

// KVFlagCreate makes FuncKVCAS succeed only when the key is absent (old ignored).
const KVFlagCreate KVFlag = 1

// Result codes: negative i32 results of host functions.
const (
	// ResultOK is success for functions that return no length.
	ResultOK int32 = 0
	// ResultNotFound: the header, parameter, property or key does not exist.
	ResultNotFound int32 = -1
	// ResultInvalid: an argument is invalid (unknown metric kind, bad name...).
	ResultInvalid int32 = -2
	// ResultDenied: not allowed (http_call to an undeclared upstream).
	ResultDenied int32 = -3
	// ResultUnavailable: the host has no such facility configured (no KV
	// store, no HTTP caller) or it failed.
	ResultUnavailable int32 = -4
	// ResultTimeout: the operation timed out.
	ResultTimeout int32 = -5
	// ResultTooLarge: a value exceeds the host's cap.
	ResultTooLarge int32 = -6
	// ResultWrongPhase: the function is not usable in the current phase.
	ResultWrongPhase int32 = -7
	// ResultBadSignature: FuncCryptoVerify checked the signature and it does
	// not match the data and key.
	ResultBadSignature int32 = -8
)

// Phase bits, for FuncPhasesSet: a guest that exports every phase (as the Go
// SDK does) narrows the set the host calls during on_configure.
const (
	PhaseRequestHeaders  uint32 = 1 << 0
	PhaseRequestBody     uint32 = 1 << 1
	PhaseResponseHeaders uint32 = 1 << 2
	PhaseResponseBody    uint32 = 1 << 3
	PhaseLog             uint32 = 1 << 4
)

// Feature bits returned by FuncFeatures: optional host facilities.
const (
	FeatureKV       uint64 = 1 << 0 // kv_* functions have a store
	FeatureHTTPCall uint64 = 1 << 1 // http_call has a caller
	FeatureMetrics  uint64 = 1 << 2 // metric_* are exported
	// FeatureCryptoVerify: crypto_verify checks signatures natively.
	FeatureCryptoVerify uint64 = 1 << 3
)

// Host functions, imported from HostModule. Signatures use wasm types; "buf,
// limit" is the buffer+limit pattern and returns the length (or a Result).
const (
	// FuncFeatures: () -> i64 Feature bits.
	FuncFeatures = "features"
	// FuncPhasesSet: (mask i32) -> (). Only during on_configure.
	FuncPhasesSet = "phases_set"
	// FuncConfigGet: (buf, limit) -> len.
	FuncConfigGet = "config_get"
	// FuncSetError: (ptr, len) -> (). Reason for a rejected config.
	FuncSetError = "set_error"
	// FuncLog: (level i32, ptr, len) -> ().
	FuncLog = "log"

	// FuncHeaderGet: (kind, name_ptr, name_len, buf, limit) -> len | ResultNotFound. First value.
	FuncHeaderGet = "header_get"
	// FuncHeaderValues: (kind, name_ptr, name_len, buf, limit) -> len | ResultNotFound. NUL-separated.
	FuncHeaderValues = "header_values"
	// FuncHeaderNames: (kind, buf, limit) -> len. NUL-separated canonical names.
	FuncHeaderNames = "header_names"
	// FuncHeaderSet: (kind, name_ptr, name_len, val_ptr, val_len) -> ().
	FuncHeaderSet = "header_set"
	// FuncHeaderAdd: (kind, name_ptr, name_len, val_ptr, val_len) -> ().
	FuncHeaderAdd = "header_add"
	// FuncHeaderRemove: (kind, name_ptr, name_len) -> ().
	FuncHeaderRemove = "header_remove"

	// FuncMethodGet: (buf, limit) -> len.
	FuncMethodGet = "method_get"
	// FuncMethodSet: (ptr, len) -> ().
	FuncMethodSet = "method_set"
	// FuncPathGet: (buf, limit) -> len. Escaped path.
	FuncPathGet = "path_get"
	// FuncPathSet: (ptr, len) -> ().
	FuncPathSet = "path_set"
	// FuncQueryGet: (buf, limit) -> len. Raw query without "?".
	FuncQueryGet = "query_get"
	// FuncQuerySet: (ptr, len) -> ().
	FuncQuerySet = "query_set"
	// FuncRouteKeyGet: (buf, limit) -> len. "GET /users/{id}".
	FuncRouteKeyGet = "route_key_get"
	// FuncRouteParamGet: (name_ptr, name_len, buf, limit) -> len | ResultNotFound.
	FuncRouteParamGet = "route_param_get"
	// FuncClientIPGet: (buf, limit) -> len.
	FuncClientIPGet = "client_ip_get"
	// FuncTLSInfoGet: (field TLSField, buf, limit) -> len (0 on plaintext).
	FuncTLSInfoGet = "tls_info_get"
	// FuncRequestIDGet: (buf, limit) -> len.
	FuncRequestIDGet = "request_id_get"

	// FuncRequestBodyRead: (buf, limit) -> len | ResultWrongPhase.
	FuncRequestBodyRead = "request_body_read"
	// FuncRequestBodyWrite: (ptr, len) -> i32 Result. Replaces the body.
	FuncRequestBodyWrite = "request_body_write"
	// FuncResponseBodyRead: (buf, limit) -> len | ResultWrongPhase.
	FuncResponseBodyRead = "response_body_read"
	// FuncResponseBodyWrite: (ptr, len) -> i32 Result. Replaces the body.
	FuncResponseBodyWrite = "response_body_write"
	// FuncStatusGet: () -> i32 status (0 before a response exists).
	FuncStatusGet = "status_get"
	// FuncStatusSet: (status i32) -> ().
	FuncStatusSet = "status_set"
	// FuncSendResponse: (status i32, body_ptr, body_len) -> (). Short-circuit
	// with status, the response headers set so far and body; the phase should
	// then return ActionRespond.
	FuncSendResponse = "send_response"

	// FuncPropertyGet: (key_ptr, key_len, buf, limit) -> len | ResultNotFound.
	FuncPropertyGet = "property_get"
	// FuncPropertySet: (key_ptr, key_len, val_ptr, val_len) -> ().
	FuncPropertySet = "property_set"

	// FuncMetricDefine: (kind, name_ptr, name_len, help_ptr, help_len) -> id | Result.
	FuncMetricDefine = "metric_define"
	// FuncMetricAdd: (id i32, v f64) -> ().
	FuncMetricAdd = "metric_add"
	// FuncMetricSet: (id i32, v f64) -> ().
	FuncMetricSet = "metric_set"
	// FuncMetricObserve: (id i32, v f64) -> ().
	FuncMetricObserve = "metric_observe"

	// FuncKVGet: (key_ptr, key_len, buf, limit) -> len | ResultNotFound | Result.
	FuncKVGet = "kv_get"
	// FuncKVSet: (key_ptr, key_len, val_ptr, val_len, ttl_ms i64) -> Result.
	FuncKVSet = "kv_set"
	// FuncKVCAS: (key_ptr, key_len, old_ptr, old_len, new_ptr, new_len, ttl_ms i64, flags i32) -> 1 swapped | 0 not | Result.
	FuncKVCAS = "kv_cas"
	// FuncKVDelete: (key_ptr, key_len) -> Result.
	FuncKVDelete = "kv_delete"

	// FuncTimeNowNs: () -> i64 wall clock, Unix nanoseconds.
	FuncTimeNowNs = "time_now_ns"
	// FuncRandomGet: (buf, len) -> (). Fills buf from crypto/rand.
	FuncRandomGet = "random_get"

	// FuncHTTPCall: (up_ptr, up_len, method_ptr, method_len, path_ptr, path_len,
	// headers_ptr, headers_len, body_ptr, body_len, timeout_ms i32) -> 1 | Result.
	// headers are NUL-separated name/value pairs: "name\x00value\x00...".
	FuncHTTPCall = "http_call"
	// FuncHTTPResponseStatus: () -> i32 status of the last call.
	FuncHTTPResponseStatus = "http_response_status"
	// FuncHTTPResponseHeader: (name_ptr, name_len, buf, limit) -> len | ResultNotFound.
	FuncHTTPResponseHeader = "http_response_header"
	// FuncHTTPResponseBody: (buf, limit) -> len.
	FuncHTTPResponseBody = "http_response_body"

	// FuncCryptoVerify: (alg_ptr, alg_len, key_ptr, key_len, data_ptr,
	// data_len, sig_ptr, sig_len) -> ResultOK | ResultBadSignature |
	// ResultInvalid. Verifies a JWS signature natively (FeatureCryptoVerify).
	// alg is a JWS name (RS256/384/512, PS256/384/512, ES256/384/512, EdDSA);
	// key is a DER SubjectPublicKeyInfo, or the 32 raw bytes of an Ed25519
	// key; sig is in JWS form (ECDSA: fixed-size big-endian r||s). ResultInvalid
	// means an unknown alg, an unparsable key, or a key whose type or curve
	// does not match alg; ResultBadSignature means the signature is wrong.
	FuncCryptoVerify = "crypto_verify"
)
