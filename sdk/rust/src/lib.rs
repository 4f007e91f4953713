//! SDK for wasmgate gateway plugins written in Rust (plugin ABI v1).
//!
//! std only: it builds with a plain `rustc --target wasm32-wasi` (Debian's
//! rustc 1.63 and later) and as a normal Cargo crate. A plugin is a `cdylib`
//! that exports the phases it implements:
//!
//! ```ignore
//! use gateway_plugin as gw;
//!
//! #[no_mangle]
//! pub extern "C" fn on_request_headers() -> i32 {
//!     gw::request_header_set("X-Hello", "world");
//!     gw::ACTION_CONTINUE
//! }
//! ```
//!
//! Linking this crate exports `gateway_abi_v1`, the version marker. Values are
//! read with the ABI's buffer+limit pattern: the SDK retries once with a
//! buffer of the announced length. See docs/plugins-rust.md and abi/ABI.md.

#![allow(clippy::missing_safety_doc)]

// ABI constants: copied from abi/ABI.md; plugins/conformance checks them
// against abi/abi.go so they cannot drift.

/// Import module of every host function.
pub const HOST_MODULE: &str = "gateway_v1";
/// ABI version this SDK implements.
pub const ABI_VERSION: i32 = 1;

/// Phase result: continue with the next plugin or the upstream.
pub const ACTION_CONTINUE: i32 = 0;
/// Phase result: stop and send the local response.
pub const ACTION_RESPOND: i32 = 1;

/// Header kind: the request.
pub const HEADER_KIND_REQUEST: u32 = 0;
/// Header kind: the response (the local response during request phases).
pub const HEADER_KIND_RESPONSE: u32 = 1;

/// Log level debug.
pub const LOG_LEVEL_DEBUG: i32 = -4;
/// Log level info.
pub const LOG_LEVEL_INFO: i32 = 0;
/// Log level warn.
pub const LOG_LEVEL_WARN: i32 = 4;
/// Log level error.
pub const LOG_LEVEL_ERROR: i32 = 8;

/// Metric kind counter.
pub const METRIC_KIND_COUNTER: u32 = 0;
/// Metric kind gauge.
pub const METRIC_KIND_GAUGE: u32 = 1;
/// Metric kind histogram.
pub const METRIC_KIND_HISTOGRAM: u32 = 2;

/// TLS field: version ("TLS 1.3").
pub const TLS_FIELD_VERSION: u32 = 0;
/// TLS field: cipher suite.
pub const TLS_FIELD_CIPHER: u32 = 1;
/// TLS field: SNI.
pub const TLS_FIELD_SERVER_NAME: u32 = 2;
/// TLS field: client certificate subject.
pub const TLS_FIELD_PEER_SUBJECT: u32 = 3;

/// kv_cas flag: create only if absent.
pub const KV_FLAG_CREATE: u32 = 1;

/// Result: success.
pub const RESULT_OK: i32 = 0;
/// Result: not found.
pub const RESULT_NOT_FOUND: i32 = -1;
/// Result: invalid argument.
pub const RESULT_INVALID: i32 = -2;
/// Result: denied.
pub const RESULT_DENIED: i32 = -3;
/// Result: facility unavailable.
pub const RESULT_UNAVAILABLE: i32 = -4;
/// Result: timeout.
pub const RESULT_TIMEOUT: i32 = -5;
/// Result: too large.
pub const RESULT_TOO_LARGE: i32 = -6;
/// Result: wrong phase.
pub const RESULT_WRONG_PHASE: i32 = -7;
/// Result: bad signature (crypto_verify).
pub const RESULT_BAD_SIGNATURE: i32 = -8;

/// Phase bit: request headers.
pub const PHASE_REQUEST_HEADERS: u32 = 1;
/// Phase bit: request body.
pub const PHASE_REQUEST_BODY: u32 = 2;
/// Phase bit: response headers.
pub const PHASE_RESPONSE_HEADERS: u32 = 4;
/// Phase bit: response body.
pub const PHASE_RESPONSE_BODY: u32 = 8;
/// Phase bit: log.
pub const PHASE_LOG: u32 = 16;

/// Feature bit: KV store.
pub const FEATURE_KV: u64 = 1;
/// Feature bit: http_call.
pub const FEATURE_HTTP_CALL: u64 = 2;
/// Feature bit: metrics.
pub const FEATURE_METRICS: u64 = 4;
/// Feature bit: crypto_verify.
pub const FEATURE_CRYPTO_VERIFY: u64 = 8;
/// Feature bit: crypto_digest.
pub const FEATURE_CRYPTO_DIGEST: u64 = 128;

/// Digest algorithm (crypto_digest): SHA-256, 32 bytes, no key.
pub const DIGEST_SHA256: i32 = 1;
/// Digest algorithm: SHA-384, 48 bytes, no key.
pub const DIGEST_SHA384: i32 = 2;
/// Digest algorithm: SHA-512, 64 bytes, no key.
pub const DIGEST_SHA512: i32 = 3;
/// Digest algorithm: HMAC-SHA256, 32 bytes.
pub const DIGEST_HMACSHA256: i32 = 4;
/// Digest algorithm: HMAC-SHA384, 48 bytes.
pub const DIGEST_HMACSHA384: i32 = 5;
/// Digest algorithm: HMAC-SHA512, 64 bytes.
pub const DIGEST_HMACSHA512: i32 = 6;

/// Raw host functions (module `gateway_v1`), one per ABI function.
pub mod sys {
    #[link(wasm_import_module = "gateway_v1")]
    extern "C" {
        #[link_name = "features"]
        pub fn features() -> i64;
        #[link_name = "phases_set"]
        pub fn phases_set(mask: u32);
        #[link_name = "config_get"]
        pub fn config_get(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "set_error"]
        pub fn set_error(ptr: *const u8, len: u32);
        #[link_name = "log"]
        pub fn log(level: i32, ptr: *const u8, len: u32);
        #[link_name = "header_get"]
        pub fn header_get(kind: u32, name: *const u8, name_len: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "header_values"]
        pub fn header_values(kind: u32, name: *const u8, name_len: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "header_names"]
        pub fn header_names(kind: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "header_set"]
        pub fn header_set(kind: u32, name: *const u8, name_len: u32, val: *const u8, val_len: u32);
        #[link_name = "header_add"]
        pub fn header_add(kind: u32, name: *const u8, name_len: u32, val: *const u8, val_len: u32);
        #[link_name = "header_remove"]
        pub fn header_remove(kind: u32, name: *const u8, name_len: u32);
        #[link_name = "method_get"]
        pub fn method_get(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "method_set"]
        pub fn method_set(ptr: *const u8, len: u32);
        #[link_name = "path_get"]
        pub fn path_get(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "path_set"]
        pub fn path_set(ptr: *const u8, len: u32);
        #[link_name = "query_get"]
        pub fn query_get(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "query_set"]
        pub fn query_set(ptr: *const u8, len: u32);
        #[link_name = "route_key_get"]
        pub fn route_key_get(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "route_param_get"]
        pub fn route_param_get(name: *const u8, name_len: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "client_ip_get"]
        pub fn client_ip_get(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "tls_info_get"]
        pub fn tls_info_get(field: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "request_id_get"]
        pub fn request_id_get(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "request_body_read"]
        pub fn request_body_read(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "request_body_write"]
        pub fn request_body_write(ptr: *const u8, len: u32) -> i32;
        #[link_name = "response_body_read"]
        pub fn response_body_read(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "response_body_write"]
        pub fn response_body_write(ptr: *const u8, len: u32) -> i32;
        #[link_name = "status_get"]
        pub fn status_get() -> i32;
        #[link_name = "status_set"]
        pub fn status_set(status: i32);
        #[link_name = "send_response"]
        pub fn send_response(status: i32, body: *const u8, body_len: u32);
        #[link_name = "property_get"]
        pub fn property_get(key: *const u8, key_len: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "property_set"]
        pub fn property_set(key: *const u8, key_len: u32, val: *const u8, val_len: u32);
        #[link_name = "metric_define"]
        pub fn metric_define(kind: u32, name: *const u8, name_len: u32, help: *const u8, help_len: u32) -> i32;
        #[link_name = "metric_add"]
        pub fn metric_add(id: i32, v: f64);
        #[link_name = "metric_set"]
        pub fn metric_set(id: i32, v: f64);
        #[link_name = "metric_observe"]
        pub fn metric_observe(id: i32, v: f64);
        #[link_name = "kv_get"]
        pub fn kv_get(key: *const u8, key_len: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "kv_set"]
        pub fn kv_set(key: *const u8, key_len: u32, val: *const u8, val_len: u32, ttl_ms: i64) -> i32;
        #[link_name = "kv_cas"]
        pub fn kv_cas(key: *const u8, key_len: u32, old: *const u8, old_len: u32, new: *const u8, new_len: u32, ttl_ms: i64, flags: u32) -> i32;
        #[link_name = "kv_delete"]
        pub fn kv_delete(key: *const u8, key_len: u32) -> i32;
        #[link_name = "time_now_ns"]
        pub fn time_now_ns() -> i64;
        #[link_name = "random_get"]
        pub fn random_get(buf: *mut u8, len: u32);
        #[link_name = "http_call"]
        pub fn http_call(up: *const u8, up_len: u32, method: *const u8, method_len: u32, path: *const u8, path_len: u32, headers: *const u8, headers_len: u32, body: *const u8, body_len: u32, timeout_ms: i32) -> i32;
        #[link_name = "http_response_status"]
        pub fn http_response_status() -> i32;
        #[link_name = "http_response_header"]
        pub fn http_response_header(name: *const u8, name_len: u32, buf: *mut u8, limit: u32) -> i32;
        #[link_name = "http_response_body"]
        pub fn http_response_body(buf: *mut u8, limit: u32) -> i32;
        #[link_name = "crypto_verify"]
        pub fn crypto_verify(alg: *const u8, alg_len: u32, key: *const u8, key_len: u32, data: *const u8, data_len: u32, sig: *const u8, sig_len: u32) -> i32;
        #[link_name = "crypto_digest"]
        pub fn crypto_digest(alg: i32, key: *const u8, key_len: u32, data: *const u8, data_len: u32, buf: *mut u8, limit: u32) -> i32;
    }
}

/// The version marker; never called. Linking this crate exports it.
#[no_mangle]
pub extern "C" fn gateway_abi_v1() {}

/// An error: a negative result code of a host function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(pub i32);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.0 {
            RESULT_NOT_FOUND => "not found",
            RESULT_INVALID => "invalid argument",
            RESULT_DENIED => "denied",
            RESULT_UNAVAILABLE => "unavailable",
            RESULT_TIMEOUT => "timeout",
            RESULT_TOO_LARGE => "too large",
            RESULT_WRONG_PHASE => "wrong phase",
            RESULT_BAD_SIGNATURE => "bad signature",
            _ => "unknown result",
        };
        write!(f, "gateway: {} ({})", what, self.0)
    }
}

fn check(rc: i32) -> Result<(), Error> {
    if rc < 0 {
        Err(Error(rc))
    } else {
        Ok(())
    }
}

/// read runs a buffer+limit host call, retrying once with the announced
/// length. Ok(None) means ResultNotFound.
fn read<F: FnMut(*mut u8, u32) -> i32>(mut f: F) -> Result<Option<Vec<u8>>, Error> {
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    loop {
        let limit = buf.capacity() as u32;
        let n = f(buf.as_mut_ptr(), limit);
        if n == RESULT_NOT_FOUND {
            return Ok(None);
        }
        if n < 0 {
            return Err(Error(n));
        }
        if (n as u32) <= limit {
            unsafe { buf.set_len(n as usize) };
            return Ok(Some(buf));
        }
        buf = Vec::with_capacity(n as usize);
    }
}

fn read_string<F: FnMut(*mut u8, u32) -> i32>(f: F) -> Option<String> {
    match read(f) {
        Ok(Some(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
        _ => None,
    }
}

/// Returns the feature bits (FEATURE_*).
pub fn features() -> u64 {
    unsafe { sys::features() as u64 }
}

/// Narrows the phases the host calls; only during on_configure.
pub fn phases_set(mask: u32) {
    unsafe { sys::phases_set(mask) }
}

/// Returns the plugin's config (JSON).
pub fn config() -> Vec<u8> {
    read(|b, l| unsafe { sys::config_get(b, l) }).ok().flatten().unwrap_or_default()
}

/// Sets the reason a config is rejected; return non-zero from on_configure.
pub fn set_error(msg: &str) {
    unsafe { sys::set_error(msg.as_ptr(), msg.len() as u32) }
}

/// Logs msg at level (LOG_LEVEL_*).
pub fn log(level: i32, msg: &str) {
    unsafe { sys::log(level, msg.as_ptr(), msg.len() as u32) }
}

/// Logs msg at info level.
pub fn log_info(msg: &str) {
    log(LOG_LEVEL_INFO, msg)
}

/// Returns the first value of header name in kind (HEADER_KIND_*).
pub fn header_get(kind: u32, name: &str) -> Option<String> {
    read_string(|b, l| unsafe { sys::header_get(kind, name.as_ptr(), name.len() as u32, b, l) })
}

/// Returns every value of header name in kind.
pub fn header_values(kind: u32, name: &str) -> Vec<String> {
    split_list(read(|b, l| unsafe { sys::header_values(kind, name.as_ptr(), name.len() as u32, b, l) }))
}

/// Returns the canonical header names of kind.
pub fn header_names(kind: u32) -> Vec<String> {
    split_list(read(|b, l| unsafe { sys::header_names(kind, b, l) }))
}

fn split_list(r: Result<Option<Vec<u8>>, Error>) -> Vec<String> {
    match r {
        Ok(Some(b)) => b
            .split(|c| *c == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Sets header name of kind to val.
pub fn header_set(kind: u32, name: &str, val: &[u8]) {
    unsafe { sys::header_set(kind, name.as_ptr(), name.len() as u32, val.as_ptr(), val.len() as u32) }
}

/// Adds val to header name of kind.
pub fn header_add(kind: u32, name: &str, val: &str) {
    unsafe { sys::header_add(kind, name.as_ptr(), name.len() as u32, val.as_ptr(), val.len() as u32) }
}

/// Removes header name of kind.
pub fn header_remove(kind: u32, name: &str) {
    unsafe { sys::header_remove(kind, name.as_ptr(), name.len() as u32) }
}

/// Sets request header name to val.
pub fn request_header_set(name: &str, val: &str) {
    header_set(HEADER_KIND_REQUEST, name, val.as_bytes())
}

/// Sets response header name to val.
pub fn response_header_set(name: &str, val: &str) {
    header_set(HEADER_KIND_RESPONSE, name, val.as_bytes())
}

/// Returns the request method.
pub fn method() -> String {
    read_string(|b, l| unsafe { sys::method_get(b, l) }).unwrap_or_default()
}

/// Sets the request method.
pub fn set_method(m: &str) {
    unsafe { sys::method_set(m.as_ptr(), m.len() as u32) }
}

/// Returns the escaped request path.
pub fn path() -> String {
    read_string(|b, l| unsafe { sys::path_get(b, l) }).unwrap_or_default()
}

/// Sets the request path; it must start with "/".
pub fn set_path(p: &str) {
    unsafe { sys::path_set(p.as_ptr(), p.len() as u32) }
}

/// Returns the raw query, without "?".
pub fn query() -> String {
    read_string(|b, l| unsafe { sys::query_get(b, l) }).unwrap_or_default()
}

/// Sets the raw query.
pub fn set_query(q: &str) {
    unsafe { sys::query_set(q.as_ptr(), q.len() as u32) }
}

/// Returns the matched route key, "GET /users/{id}".
pub fn route_key() -> String {
    read_string(|b, l| unsafe { sys::route_key_get(b, l) }).unwrap_or_default()
}

/// Returns the route parameter name.
pub fn route_param(name: &str) -> Option<String> {
    read_string(|b, l| unsafe { sys::route_param_get(name.as_ptr(), name.len() as u32, b, l) })
}

/// Returns the client IP.
pub fn client_ip() -> String {
    read_string(|b, l| unsafe { sys::client_ip_get(b, l) }).unwrap_or_default()
}

/// Returns a TLS field (TLS_FIELD_*), empty on plaintext.
pub fn tls_info(field: u32) -> String {
    read_string(|b, l| unsafe { sys::tls_info_get(field, b, l) }).unwrap_or_default()
}

/// Returns the request id.
pub fn request_id() -> String {
    read_string(|b, l| unsafe { sys::request_id_get(b, l) }).unwrap_or_default()
}

/// Returns the buffered request body (in on_request_body).
pub fn request_body() -> Result<Vec<u8>, Error> {
    read(|b, l| unsafe { sys::request_body_read(b, l) }).map(|o| o.unwrap_or_default())
}

/// Replaces the request body.
pub fn set_request_body(body: &[u8]) -> Result<(), Error> {
    check(unsafe { sys::request_body_write(body.as_ptr(), body.len() as u32) })
}

/// Returns the buffered response body (in on_response_body).
pub fn response_body() -> Result<Vec<u8>, Error> {
    read(|b, l| unsafe { sys::response_body_read(b, l) }).map(|o| o.unwrap_or_default())
}

/// Replaces the response body.
pub fn set_response_body(body: &[u8]) -> Result<(), Error> {
    check(unsafe { sys::response_body_write(body.as_ptr(), body.len() as u32) })
}

/// Returns the response status (0 before a response exists).
pub fn status() -> i32 {
    unsafe { sys::status_get() }
}

/// Sets the response status.
pub fn set_status(s: i32) {
    unsafe { sys::status_set(s) }
}

/// Builds the local response and returns ACTION_RESPOND for the phase to return.
pub fn respond(status: i32, body: &[u8]) -> i32 {
    unsafe { sys::send_response(status, body.as_ptr(), body.len() as u32) };
    ACTION_RESPOND
}

/// Returns the per-request property key.
pub fn property(key: &str) -> Option<String> {
    read_string(|b, l| unsafe { sys::property_get(key.as_ptr(), key.len() as u32, b, l) })
}

/// Sets the per-request property key.
pub fn set_property(key: &str, val: &str) {
    unsafe { sys::property_set(key.as_ptr(), key.len() as u32, val.as_ptr(), val.len() as u32) }
}

/// A metric defined with metric_define.
#[derive(Debug, Clone, Copy)]
pub struct Metric(pub i32);

impl Metric {
    /// Defines (or finds) a metric of kind (METRIC_KIND_*).
    pub fn define(kind: u32, name: &str, help: &str) -> Result<Metric, Error> {
        let id = unsafe { sys::metric_define(kind, name.as_ptr(), name.len() as u32, help.as_ptr(), help.len() as u32) };
        check(id).map(|_| Metric(id))
    }
    /// Defines (or finds) a counter.
    pub fn counter(name: &str, help: &str) -> Result<Metric, Error> {
        Metric::define(METRIC_KIND_COUNTER, name, help)
    }
    /// Adds v (counter or gauge).
    pub fn add(&self, v: f64) {
        unsafe { sys::metric_add(self.0, v) }
    }
    /// Sets a gauge.
    pub fn set(&self, v: f64) {
        unsafe { sys::metric_set(self.0, v) }
    }
    /// Observes v (histogram).
    pub fn observe(&self, v: f64) {
        unsafe { sys::metric_observe(self.0, v) }
    }
}

/// Returns the value of key in the plugin's KV namespace; Ok(None) if absent.
pub fn kv_get(key: &str) -> Result<Option<Vec<u8>>, Error> {
    read(|b, l| unsafe { sys::kv_get(key.as_ptr(), key.len() as u32, b, l) })
}

/// Sets key to val with a TTL in milliseconds (0 = none).
pub fn kv_set(key: &str, val: &[u8], ttl_ms: i64) -> Result<(), Error> {
    check(unsafe { sys::kv_set(key.as_ptr(), key.len() as u32, val.as_ptr(), val.len() as u32, ttl_ms) })
}

/// Compare-and-swap; returns whether it swapped.
pub fn kv_cas(key: &str, old: &[u8], new: &[u8], ttl_ms: i64, flags: u32) -> Result<bool, Error> {
    let rc = unsafe {
        sys::kv_cas(key.as_ptr(), key.len() as u32, old.as_ptr(), old.len() as u32, new.as_ptr(), new.len() as u32, ttl_ms, flags)
    };
    check(rc).map(|_| rc == 1)
}

/// Deletes key.
pub fn kv_delete(key: &str) -> Result<(), Error> {
    check(unsafe { sys::kv_delete(key.as_ptr(), key.len() as u32) })
}

/// Returns the wall clock in Unix nanoseconds.
pub fn now_ns() -> i64 {
    unsafe { sys::time_now_ns() }
}

/// Fills buf with random bytes.
pub fn random(buf: &mut [u8]) {
    unsafe { sys::random_get(buf.as_mut_ptr(), buf.len() as u32) }
}

/// Returns alg's digest of data (DIGEST_SHA256, DIGEST_SHA384,
/// DIGEST_SHA512), or its HMAC keyed with key (DIGEST_HMACSHA256,
/// DIGEST_HMACSHA384, DIGEST_HMACSHA512), computed by the host
/// (crypto_digest): raw bytes, 32, 48 or 64 of them. Plain digests take an
/// empty key; Err(Error(RESULT_INVALID)) for an unknown alg or a key given
/// to a plain digest. A module that uses it does not load on a host older
/// than crypto_digest (FEATURE_CRYPTO_DIGEST).
pub fn digest(alg: i32, key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; 64];
    let n = unsafe {
        sys::crypto_digest(alg, key.as_ptr(), key.len() as u32, data.as_ptr(), data.len() as u32, out.as_mut_ptr(), out.len() as u32)
    };
    check(n)?;
    if n as usize > out.len() {
        return Err(Error(RESULT_TOO_LARGE));
    }
    out.truncate(n as usize);
    Ok(out)
}

/// digest_into has the host write alg's digest (DIGEST_SHA256 or
/// DIGEST_HMACSHA256) into out; it traps if the host does not, which a host
/// that loaded the module never does.
fn digest_into(alg: i32, key: &[u8], data: &[u8], out: &mut [u8; 32]) {
    let n = unsafe {
        sys::crypto_digest(alg, key.as_ptr(), key.len() as u32, data.as_ptr(), data.len() as u32, out.as_mut_ptr(), 32)
    };
    if n != 32 {
        std::process::abort();
    }
}

/// Returns the SHA-256 digest of data, computed by the host.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    digest_into(DIGEST_SHA256, &[], data, &mut out);
    out
}

/// Returns the HMAC-SHA256 of data keyed with key, computed by the host.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    digest_into(DIGEST_HMACSHA256, key, data, &mut out);
    out
}
