// SDK for wasmgate gateway plugins written in AssemblyScript (plugin ABI v1).
//
// A plugin's entry file re-exports the version marker and exports the phases it
// implements:
//
//   import * as gw from "@wasmgate/gateway-plugin/assembly";
//   export { gateway_abi_v1 } from "@wasmgate/gateway-plugin/assembly";
//   export function on_request_headers(): i32 {
//     gw.requestHeaderSet("X-Hello", "world");
//     return gw.ACTION_CONTINUE;
//   }
//
// Build: npx asc plugin.ts -o plugin.wasm -O3 --use abort= --exportStart _initialize
// Strings cross the ABI as UTF-8 (String.UTF8); values are read with the
// buffer+limit pattern, retrying once with the announced length.
// See docs/plugins-assemblyscript.md and abi/ABI.md.

// ABI constants: copied from abi/ABI.md; plugins/conformance checks them
// against abi/abi.go so they cannot drift.
export const HOST_MODULE = "gateway_v1";
export const ABI_VERSION: i32 = 1;

export const ACTION_CONTINUE: i32 = 0;
export const ACTION_RESPOND: i32 = 1;

export const HEADER_KIND_REQUEST: u32 = 0;
export const HEADER_KIND_RESPONSE: u32 = 1;

export const LOG_LEVEL_DEBUG: i32 = -4;
export const LOG_LEVEL_INFO: i32 = 0;
export const LOG_LEVEL_WARN: i32 = 4;
export const LOG_LEVEL_ERROR: i32 = 8;

export const METRIC_KIND_COUNTER: u32 = 0;
export const METRIC_KIND_GAUGE: u32 = 1;
export const METRIC_KIND_HISTOGRAM: u32 = 2;

export const TLS_FIELD_VERSION: u32 = 0;
export const TLS_FIELD_CIPHER: u32 = 1;
export const TLS_FIELD_SERVER_NAME: u32 = 2;
export const TLS_FIELD_PEER_SUBJECT: u32 = 3;

export const KV_FLAG_CREATE: u32 = 1;

export const RESULT_OK: i32 = 0;
export const RESULT_NOT_FOUND: i32 = -1;
export const RESULT_INVALID: i32 = -2;
export const RESULT_DENIED: i32 = -3;
export const RESULT_UNAVAILABLE: i32 = -4;
export const RESULT_TIMEOUT: i32 = -5;
export const RESULT_TOO_LARGE: i32 = -6;
export const RESULT_WRONG_PHASE: i32 = -7;
export const RESULT_BAD_SIGNATURE: i32 = -8;

export const PHASE_REQUEST_HEADERS: u32 = 1;
export const PHASE_REQUEST_BODY: u32 = 2;
export const PHASE_RESPONSE_HEADERS: u32 = 4;
export const PHASE_RESPONSE_BODY: u32 = 8;
export const PHASE_LOG: u32 = 16;

export const FEATURE_KV: u64 = 1;
export const FEATURE_HTTP_CALL: u64 = 2;
export const FEATURE_METRICS: u64 = 4;
export const FEATURE_CRYPTO_VERIFY: u64 = 8;
export const FEATURE_CRYPTO_DIGEST: u64 = 128;

// crypto_digest algorithms (abi/digest.go): plain digests take no key.
export const DIGEST_SHA256: i32 = 1;
export const DIGEST_SHA384: i32 = 2;
export const DIGEST_SHA512: i32 = 3;
export const DIGEST_HMACSHA256: i32 = 4;
export const DIGEST_HMACSHA384: i32 = 5;
export const DIGEST_HMACSHA512: i32 = 6;

// The version marker; never called. Re-export it from the plugin's entry file.
export function gateway_abi_v1(): void {}

// Raw host functions (module gateway_v1), one per ABI function.
@external("gateway_v1", "features") export declare function sys_features(): i64;
@external("gateway_v1", "phases_set") export declare function sys_phases_set(mask: u32): void;
@external("gateway_v1", "config_get") export declare function sys_config_get(buf: usize, limit: u32): i32;
@external("gateway_v1", "set_error") export declare function sys_set_error(ptr: usize, len: u32): void;
@external("gateway_v1", "log") export declare function sys_log(level: i32, ptr: usize, len: u32): void;
@external("gateway_v1", "header_get") export declare function sys_header_get(kind: u32, name: usize, nameLen: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "header_values") export declare function sys_header_values(kind: u32, name: usize, nameLen: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "header_names") export declare function sys_header_names(kind: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "header_set") export declare function sys_header_set(kind: u32, name: usize, nameLen: u32, val: usize, valLen: u32): void;
@external("gateway_v1", "header_add") export declare function sys_header_add(kind: u32, name: usize, nameLen: u32, val: usize, valLen: u32): void;
@external("gateway_v1", "header_remove") export declare function sys_header_remove(kind: u32, name: usize, nameLen: u32): void;
@external("gateway_v1", "method_get") export declare function sys_method_get(buf: usize, limit: u32): i32;
@external("gateway_v1", "method_set") export declare function sys_method_set(ptr: usize, len: u32): void;
@external("gateway_v1", "path_get") export declare function sys_path_get(buf: usize, limit: u32): i32;
@external("gateway_v1", "path_set") export declare function sys_path_set(ptr: usize, len: u32): void;
@external("gateway_v1", "query_get") export declare function sys_query_get(buf: usize, limit: u32): i32;
@external("gateway_v1", "query_set") export declare function sys_query_set(ptr: usize, len: u32): void;
@external("gateway_v1", "route_key_get") export declare function sys_route_key_get(buf: usize, limit: u32): i32;
@external("gateway_v1", "route_param_get") export declare function sys_route_param_get(name: usize, nameLen: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "client_ip_get") export declare function sys_client_ip_get(buf: usize, limit: u32): i32;
@external("gateway_v1", "tls_info_get") export declare function sys_tls_info_get(field: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "request_id_get") export declare function sys_request_id_get(buf: usize, limit: u32): i32;
@external("gateway_v1", "request_body_read") export declare function sys_request_body_read(buf: usize, limit: u32): i32;
@external("gateway_v1", "request_body_write") export declare function sys_request_body_write(ptr: usize, len: u32): i32;
@external("gateway_v1", "response_body_read") export declare function sys_response_body_read(buf: usize, limit: u32): i32;
@external("gateway_v1", "response_body_write") export declare function sys_response_body_write(ptr: usize, len: u32): i32;
@external("gateway_v1", "status_get") export declare function sys_status_get(): i32;
@external("gateway_v1", "status_set") export declare function sys_status_set(status: i32): void;
@external("gateway_v1", "send_response") export declare function sys_send_response(status: i32, body: usize, bodyLen: u32): void;
@external("gateway_v1", "property_get") export declare function sys_property_get(key: usize, keyLen: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "property_set") export declare function sys_property_set(key: usize, keyLen: u32, val: usize, valLen: u32): void;
@external("gateway_v1", "metric_define") export declare function sys_metric_define(kind: u32, name: usize, nameLen: u32, help: usize, helpLen: u32): i32;
@external("gateway_v1", "metric_add") export declare function sys_metric_add(id: i32, v: f64): void;
@external("gateway_v1", "metric_set") export declare function sys_metric_set(id: i32, v: f64): void;
@external("gateway_v1", "metric_observe") export declare function sys_metric_observe(id: i32, v: f64): void;
@external("gateway_v1", "kv_get") export declare function sys_kv_get(key: usize, keyLen: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "kv_set") export declare function sys_kv_set(key: usize, keyLen: u32, val: usize, valLen: u32, ttlMs: i64): i32;
@external("gateway_v1", "kv_cas") export declare function sys_kv_cas(key: usize, keyLen: u32, old: usize, oldLen: u32, nw: usize, newLen: u32, ttlMs: i64, flags: u32): i32;
@external("gateway_v1", "kv_delete") export declare function sys_kv_delete(key: usize, keyLen: u32): i32;
@external("gateway_v1", "time_now_ns") export declare function sys_time_now_ns(): i64;
@external("gateway_v1", "random_get") export declare function sys_random_get(buf: usize, len: u32): void;
@external("gateway_v1", "http_call") export declare function sys_http_call(up: usize, upLen: u32, method: usize, methodLen: u32, path: usize, pathLen: u32, headers: usize, headersLen: u32, body: usize, bodyLen: u32, timeoutMs: i32): i32;
@external("gateway_v1", "http_response_status") export declare function sys_http_response_status(): i32;
@external("gateway_v1", "http_response_header") export declare function sys_http_response_header(name: usize, nameLen: u32, buf: usize, limit: u32): i32;
@external("gateway_v1", "http_response_body") export declare function sys_http_response_body(buf: usize, limit: u32): i32;
@external("gateway_v1", "crypto_verify") export declare function sys_crypto_verify(alg: usize, algLen: u32, key: usize, keyLen: u32, data: usize, dataLen: u32, sig: usize, sigLen: u32): i32;
@external("gateway_v1", "crypto_digest") export declare function sys_crypto_digest(alg: i32, key: usize, keyLen: u32, data: usize, dataLen: u32, buf: usize, limit: u32): i32;

// Last result code of a read helper that returned null (RESULT_NOT_FOUND, ...).
let lastResult: i32 = 0;

// lastError returns the result code behind the last null from a read helper.
export function lastError(): i32 {
  return lastResult;
}

function ptr(b: ArrayBuffer): usize {
  return changetype<usize>(b);
}

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

// readBuf runs a buffer+limit call; null on a negative result (see lastError).
function readBuf(f: (buf: usize, limit: u32) => i32): ArrayBuffer | null {
  let buf = new ArrayBuffer(256);
  for (let i = 0; i < 2; i++) {
    const n = f(ptr(buf), <u32>buf.byteLength);
    if (n < 0) {
      lastResult = n;
      return null;
    }
    if (n <= buf.byteLength) return buf.slice(0, n);
    buf = new ArrayBuffer(n);
  }
  lastResult = RESULT_TOO_LARGE;
  return null;
}

function str(b: ArrayBuffer | null): string | null {
  if (b == null) return null;
  return String.UTF8.decode(b!);
}

// Scratch name and value buffers for closures (AssemblyScript closures cannot
// capture locals).
let argA: ArrayBuffer = new ArrayBuffer(0);
let argKind: u32 = 0;

// config returns the plugin's config (JSON) as bytes.
export function config(): ArrayBuffer {
  const b = readBuf((buf: usize, limit: u32): i32 => sys_config_get(buf, limit));
  return b == null ? new ArrayBuffer(0) : b!;
}

// setError sets the reason a config is rejected.
export function setError(msg: string): void {
  const b = utf8(msg);
  sys_set_error(ptr(b), <u32>b.byteLength);
}

// log logs msg at level (LOG_LEVEL_*).
export function log(level: i32, msg: string): void {
  const b = utf8(msg);
  sys_log(level, ptr(b), <u32>b.byteLength);
}

// logInfo logs msg at info level.
export function logInfo(msg: string): void {
  log(LOG_LEVEL_INFO, msg);
}

// headerGet returns the first value of header name in kind, or null.
export function headerGet(kind: u32, name: string): string | null {
  argA = utf8(name);
  argKind = kind;
  return str(readBuf((buf: usize, limit: u32): i32 => sys_header_get(argKind, ptr(argA), <u32>argA.byteLength, buf, limit)));
}

// headerSetBytes sets header name of kind to the bytes val.
export function headerSetBytes(kind: u32, name: string, val: ArrayBuffer): void {
  const n = utf8(name);
  sys_header_set(kind, ptr(n), <u32>n.byteLength, ptr(val), <u32>val.byteLength);
}

// headerSet sets header name of kind to val.
export function headerSet(kind: u32, name: string, val: string): void {
  headerSetBytes(kind, name, utf8(val));
}

// headerAdd adds val to header name of kind.
export function headerAdd(kind: u32, name: string, val: string): void {
  const n = utf8(name);
  const v = utf8(val);
  sys_header_add(kind, ptr(n), <u32>n.byteLength, ptr(v), <u32>v.byteLength);
}

// headerRemove removes header name of kind.
export function headerRemove(kind: u32, name: string): void {
  const n = utf8(name);
  sys_header_remove(kind, ptr(n), <u32>n.byteLength);
}

// requestHeaderSet sets request header name to val.
export function requestHeaderSet(name: string, val: string): void {
  headerSet(HEADER_KIND_REQUEST, name, val);
}

// responseHeaderSet sets response header name to val.
export function responseHeaderSet(name: string, val: string): void {
  headerSet(HEADER_KIND_RESPONSE, name, val);
}

// method returns the request method.
export function method(): string {
  const s = str(readBuf((buf: usize, limit: u32): i32 => sys_method_get(buf, limit)));
  return s == null ? "" : s!;
}

// path returns the escaped request path.
export function path(): string {
  const s = str(readBuf((buf: usize, limit: u32): i32 => sys_path_get(buf, limit)));
  return s == null ? "" : s!;
}

// setPath sets the request path; it must start with "/".
export function setPath(p: string): void {
  const b = utf8(p);
  sys_path_set(ptr(b), <u32>b.byteLength);
}

// query returns the raw query without "?".
export function query(): string {
  const s = str(readBuf((buf: usize, limit: u32): i32 => sys_query_get(buf, limit)));
  return s == null ? "" : s!;
}

// requestBody returns the buffered request body (in on_request_body), or null.
export function requestBody(): ArrayBuffer | null {
  return readBuf((buf: usize, limit: u32): i32 => sys_request_body_read(buf, limit));
}

// setRequestBody replaces the request body; returns a RESULT_* code.
export function setRequestBody(b: ArrayBuffer): i32 {
  return sys_request_body_write(ptr(b), <u32>b.byteLength);
}

// responseBody returns the buffered response body (in on_response_body), or null.
export function responseBody(): ArrayBuffer | null {
  return readBuf((buf: usize, limit: u32): i32 => sys_response_body_read(buf, limit));
}

// setResponseBody replaces the response body; returns a RESULT_* code.
export function setResponseBody(b: ArrayBuffer): i32 {
  return sys_response_body_write(ptr(b), <u32>b.byteLength);
}

// respond builds a local response and returns ACTION_RESPOND for the phase.
export function respond(status: i32, body: string): i32 {
  const b = utf8(body);
  sys_send_response(status, ptr(b), <u32>b.byteLength);
  return ACTION_RESPOND;
}

// metricDefine defines (or finds) a metric; returns its id or a RESULT_* code.
export function metricDefine(kind: u32, name: string, help: string): i32 {
  const n = utf8(name);
  const h = utf8(help);
  return sys_metric_define(kind, ptr(n), <u32>n.byteLength, ptr(h), <u32>h.byteLength);
}

// counter defines (or finds) a counter; returns its id or a RESULT_* code.
export function counter(name: string, help: string): i32 {
  return metricDefine(METRIC_KIND_COUNTER, name, help);
}

// metricAdd adds v to metric id (counter or gauge).
export function metricAdd(id: i32, v: f64): void {
  sys_metric_add(id, v);
}

// kvGet returns the value of key, or null when absent (see lastError).
export function kvGet(key: string): ArrayBuffer | null {
  argA = utf8(key);
  return readBuf((buf: usize, limit: u32): i32 => sys_kv_get(ptr(argA), <u32>argA.byteLength, buf, limit));
}

// kvSet sets key to val with a TTL in milliseconds (0 = none); returns a RESULT_* code.
export function kvSet(key: string, val: ArrayBuffer, ttlMs: i64): i32 {
  const k = utf8(key);
  return sys_kv_set(ptr(k), <u32>k.byteLength, ptr(val), <u32>val.byteLength, ttlMs);
}

// kvDelete deletes key; returns a RESULT_* code.
export function kvDelete(key: string): i32 {
  const k = utf8(key);
  return sys_kv_delete(ptr(k), <u32>k.byteLength);
}

// nowNs returns the wall clock in Unix nanoseconds.
export function nowNs(): i64 {
  return sys_time_now_ns();
}

// Digests and HMACs computed by the host (crypto_digest): raw bytes, hex or
// base64 is up to the plugin. A module that uses them does not load on a host
// older than crypto_digest (FEATURE_CRYPTO_DIGEST).

// digest returns alg's digest of data (DIGEST_SHA256, DIGEST_SHA384,
// DIGEST_SHA512), or its HMAC keyed with key (DIGEST_HMACSHA256,
// DIGEST_HMACSHA384, DIGEST_HMACSHA512): 32, 48 or 64 bytes. Plain digests
// take an empty key. null for an unknown alg or a key given to a plain digest
// (lastError: RESULT_INVALID).
export function digest(alg: i32, key: ArrayBuffer, data: ArrayBuffer): ArrayBuffer | null {
  const out = new ArrayBuffer(64);
  const n = sys_crypto_digest(alg, ptr(key), <u32>key.byteLength, ptr(data), <u32>data.byteLength, ptr(out), <u32>out.byteLength);
  if (n < 0) {
    lastResult = n;
    return null;
  }
  if (n > out.byteLength) {
    lastResult = RESULT_TOO_LARGE;
    return null;
  }
  return out.slice(0, n);
}

// sha256 returns the SHA-256 digest of data (32 bytes).
export function sha256(data: ArrayBuffer): ArrayBuffer {
  const out = new ArrayBuffer(32);
  // Only a host without crypto_digest fails, and it does not load the module.
  if (sys_crypto_digest(DIGEST_SHA256, 0, 0, ptr(data), <u32>data.byteLength, ptr(out), 32) != 32) unreachable();
  return out;
}

// hmacSha256 returns the HMAC-SHA256 of data keyed with key (32 bytes).
export function hmacSha256(key: ArrayBuffer, data: ArrayBuffer): ArrayBuffer {
  const out = new ArrayBuffer(32);
  if (sys_crypto_digest(DIGEST_HMACSHA256, ptr(key), <u32>key.byteLength, ptr(data), <u32>data.byteLength, ptr(out), 32) != 32) unreachable();
  return out;
}
