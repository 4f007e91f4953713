/*
 * gateway.h: the C SDK for wasmgate plugins (gateway plugin ABI v1).
 *
 * Single header, no dependencies: works with clang --target=wasm32-wasi and
 * wasi-libc (reactor), and with -nostdlib (no libc at all). See
 * docs/plugins-c.md and abi/ABI.md, the specification these declarations copy.
 *
 *   #include "gateway.h"
 *   GW_EXPORT("on_request_headers") int32_t on_request_headers(void) {
 *       gw_header_set_str(GW_HEADER_KIND_REQUEST, "X-Hello", "world");
 *       return GW_ACTION_CONTINUE;
 *   }
 *
 * With wasi-libc:
 *   clang --target=wasm32-wasi -mexec-model=reactor -Os -Wl,--strip-all \
 *         -I sdk/c -o plugin.wasm plugin.c
 * Without libc:
 *   clang --target=wasm32 -nostdlib -Os -Wl,--no-entry -Wl,--strip-all \
 *         -I sdk/c -o plugin.wasm plugin.c
 *
 * Pointers are offsets into the module's own memory, so any C pointer can be
 * passed. Functions that return a value use the buffer+limit pattern: they
 * write only if the value fits in limit bytes and return its real length;
 * a result greater than limit means "retry with a buffer of that size", a
 * negative result is a GW_RESULT_* code.
 */
#ifndef WASMGATE_GATEWAY_H
#define WASMGATE_GATEWAY_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI constants: copied from abi/ABI.md; plugins/conformance checks them
 * against abi/abi.go so they cannot drift. */
#define GW_HOST_MODULE "gateway_v1"
#define GW_ABI_VERSION 1

#define GW_ACTION_CONTINUE 0
#define GW_ACTION_RESPOND 1

#define GW_HEADER_KIND_REQUEST 0
#define GW_HEADER_KIND_RESPONSE 1

#define GW_LOG_LEVEL_DEBUG (-4)
#define GW_LOG_LEVEL_INFO 0
#define GW_LOG_LEVEL_WARN 4
#define GW_LOG_LEVEL_ERROR 8

#define GW_METRIC_KIND_COUNTER 0
#define GW_METRIC_KIND_GAUGE 1
#define GW_METRIC_KIND_HISTOGRAM 2

#define GW_TLS_FIELD_VERSION 0
#define GW_TLS_FIELD_CIPHER 1
#define GW_TLS_FIELD_SERVER_NAME 2
#define GW_TLS_FIELD_PEER_SUBJECT 3

#define GW_KV_FLAG_CREATE 1

#define GW_RESULT_OK 0
#define GW_RESULT_NOT_FOUND (-1)
#define GW_RESULT_INVALID (-2)
#define GW_RESULT_DENIED (-3)
#define GW_RESULT_UNAVAILABLE (-4)
#define GW_RESULT_TIMEOUT (-5)
#define GW_RESULT_TOO_LARGE (-6)
#define GW_RESULT_WRONG_PHASE (-7)
#define GW_RESULT_BAD_SIGNATURE (-8)

#define GW_PHASE_REQUEST_HEADERS 1
#define GW_PHASE_REQUEST_BODY 2
#define GW_PHASE_RESPONSE_HEADERS 4
#define GW_PHASE_RESPONSE_BODY 8
#define GW_PHASE_LOG 16

#define GW_FEATURE_KV 1
#define GW_FEATURE_HTTP_CALL 2
#define GW_FEATURE_METRICS 4
#define GW_FEATURE_CRYPTO_VERIFY 8
#define GW_FEATURE_CRYPTO_DIGEST 128

/* crypto_digest algorithms (abi/digest.go): plain digests take no key. */
#define GW_DIGEST_SHA256 1
#define GW_DIGEST_SHA384 2
#define GW_DIGEST_SHA512 3
#define GW_DIGEST_HMACSHA256 4
#define GW_DIGEST_HMACSHA384 5
#define GW_DIGEST_HMACSHA512 6

/* GW_EXPORT("name") exports a function under name. */
#define GW_EXPORT(name) __attribute__((export_name(name), visibility("default")))
#define GW_IMPORT(name) __attribute__((import_module(GW_HOST_MODULE), import_name(name)))

/* The version marker every v1 plugin exports; weak so that several
 * translation units may include this header. */
GW_EXPORT("gateway_abi_v1") __attribute__((weak)) void gateway_abi_v1(void) {}

/* Host functions (module gateway_v1), one per ABI function. */
GW_IMPORT("features") int64_t gw_features(void);
GW_IMPORT("phases_set") void gw_phases_set(uint32_t mask);
GW_IMPORT("config_get") int32_t gw_config_get(void *buf, uint32_t limit);
GW_IMPORT("set_error") void gw_set_error(const void *ptr, uint32_t len);
GW_IMPORT("log") void gw_log(int32_t level, const void *ptr, uint32_t len);
GW_IMPORT("header_get") int32_t gw_header_get(uint32_t kind, const void *name, uint32_t name_len, void *buf, uint32_t limit);
GW_IMPORT("header_values") int32_t gw_header_values(uint32_t kind, const void *name, uint32_t name_len, void *buf, uint32_t limit);
GW_IMPORT("header_names") int32_t gw_header_names(uint32_t kind, void *buf, uint32_t limit);
GW_IMPORT("header_set") void gw_header_set(uint32_t kind, const void *name, uint32_t name_len, const void *val, uint32_t val_len);
GW_IMPORT("header_add") void gw_header_add(uint32_t kind, const void *name, uint32_t name_len, const void *val, uint32_t val_len);
GW_IMPORT("header_remove") void gw_header_remove(uint32_t kind, const void *name, uint32_t name_len);
GW_IMPORT("method_get") int32_t gw_method_get(void *buf, uint32_t limit);
GW_IMPORT("method_set") void gw_method_set(const void *ptr, uint32_t len);
GW_IMPORT("path_get") int32_t gw_path_get(void *buf, uint32_t limit);
GW_IMPORT("path_set") void gw_path_set(const void *ptr, uint32_t len);
GW_IMPORT("query_get") int32_t gw_query_get(void *buf, uint32_t limit);
GW_IMPORT("query_set") void gw_query_set(const void *ptr, uint32_t len);
GW_IMPORT("route_key_get") int32_t gw_route_key_get(void *buf, uint32_t limit);
GW_IMPORT("route_param_get") int32_t gw_route_param_get(const void *name, uint32_t name_len, void *buf, uint32_t limit);
GW_IMPORT("client_ip_get") int32_t gw_client_ip_get(void *buf, uint32_t limit);
GW_IMPORT("tls_info_get") int32_t gw_tls_info_get(uint32_t field, void *buf, uint32_t limit);
GW_IMPORT("request_id_get") int32_t gw_request_id_get(void *buf, uint32_t limit);
GW_IMPORT("request_body_read") int32_t gw_request_body_read(void *buf, uint32_t limit);
GW_IMPORT("request_body_write") int32_t gw_request_body_write(const void *ptr, uint32_t len);
GW_IMPORT("response_body_read") int32_t gw_response_body_read(void *buf, uint32_t limit);
GW_IMPORT("response_body_write") int32_t gw_response_body_write(const void *ptr, uint32_t len);
GW_IMPORT("status_get") int32_t gw_status_get(void);
GW_IMPORT("status_set") void gw_status_set(int32_t status);
GW_IMPORT("send_response") void gw_send_response(int32_t status, const void *body, uint32_t body_len);
GW_IMPORT("property_get") int32_t gw_property_get(const void *key, uint32_t key_len, void *buf, uint32_t limit);
GW_IMPORT("property_set") void gw_property_set(const void *key, uint32_t key_len, const void *val, uint32_t val_len);
GW_IMPORT("metric_define") int32_t gw_metric_define(uint32_t kind, const void *name, uint32_t name_len, const void *help, uint32_t help_len);
GW_IMPORT("metric_add") void gw_metric_add(int32_t id, double v);
GW_IMPORT("metric_set") void gw_metric_set(int32_t id, double v);
GW_IMPORT("metric_observe") void gw_metric_observe(int32_t id, double v);
GW_IMPORT("kv_get") int32_t gw_kv_get(const void *key, uint32_t key_len, void *buf, uint32_t limit);
GW_IMPORT("kv_set") int32_t gw_kv_set(const void *key, uint32_t key_len, const void *val, uint32_t val_len, int64_t ttl_ms);
GW_IMPORT("kv_cas") int32_t gw_kv_cas(const void *key, uint32_t key_len, const void *old_val, uint32_t old_len, const void *new_val, uint32_t new_len, int64_t ttl_ms, uint32_t flags);
GW_IMPORT("kv_delete") int32_t gw_kv_delete(const void *key, uint32_t key_len);
GW_IMPORT("time_now_ns") int64_t gw_time_now_ns(void);
GW_IMPORT("random_get") void gw_random_get(void *buf, uint32_t len);
GW_IMPORT("http_call") int32_t gw_http_call(const void *up, uint32_t up_len, const void *method, uint32_t method_len, const void *path, uint32_t path_len, const void *headers, uint32_t headers_len, const void *body, uint32_t body_len, int32_t timeout_ms);
GW_IMPORT("http_response_status") int32_t gw_http_response_status(void);
GW_IMPORT("http_response_header") int32_t gw_http_response_header(const void *name, uint32_t name_len, void *buf, uint32_t limit);
GW_IMPORT("http_response_body") int32_t gw_http_response_body(void *buf, uint32_t limit);
GW_IMPORT("crypto_verify") int32_t gw_crypto_verify(const void *alg, uint32_t alg_len, const void *key, uint32_t key_len, const void *data, uint32_t data_len, const void *sig, uint32_t sig_len);
GW_IMPORT("crypto_digest") int32_t gw_crypto_digest(int32_t alg, const void *key, uint32_t key_len, const void *data, uint32_t data_len, void *buf, uint32_t limit);

/* Helpers that need no libc. */

/* gw_strlen is strlen for NUL-terminated s. */
static inline uint32_t gw_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

/* gw_memeq reports whether a[0:n] equals b[0:n]. */
static inline int gw_memeq(const void *a, const void *b, uint32_t n) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (uint32_t i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

/* gw_copy copies n bytes from src to dst (regions may not overlap). */
static inline void gw_copy(void *dst, const void *src, uint32_t n) {
    volatile unsigned char *d = (volatile unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    for (uint32_t i = 0; i < n; i++) d[i] = s[i];
}

/* gw_log_str logs NUL-terminated msg at level (GW_LOG_LEVEL_*). */
static inline void gw_log_str(int32_t level, const char *msg) { gw_log(level, msg, gw_strlen(msg)); }

/* gw_header_get_str reads the first value of header name into buf; see
 * gw_header_get for the result. */
static inline int32_t gw_header_get_str(uint32_t kind, const char *name, void *buf, uint32_t limit) {
    return gw_header_get(kind, name, gw_strlen(name), buf, limit);
}

/* gw_header_set_str sets header name to the NUL-terminated val. */
static inline void gw_header_set_str(uint32_t kind, const char *name, const char *val) {
    gw_header_set(kind, name, gw_strlen(name), val, gw_strlen(val));
}

/* gw_header_add_str adds the NUL-terminated val to header name. */
static inline void gw_header_add_str(uint32_t kind, const char *name, const char *val) {
    gw_header_add(kind, name, gw_strlen(name), val, gw_strlen(val));
}

/* gw_header_remove_str removes header name. */
static inline void gw_header_remove_str(uint32_t kind, const char *name) {
    gw_header_remove(kind, name, gw_strlen(name));
}

/* gw_respond builds a local response with a NUL-terminated body and returns
 * GW_ACTION_RESPOND, the value the phase must return. */
static inline int32_t gw_respond(int32_t status, const char *body) {
    gw_send_response(status, body, gw_strlen(body));
    return GW_ACTION_RESPOND;
}

/* gw_counter defines (or finds) the counter name and returns its id, or a
 * negative GW_RESULT_* code. */
static inline int32_t gw_counter(const char *name, const char *help) {
    return gw_metric_define(GW_METRIC_KIND_COUNTER, name, gw_strlen(name), help, gw_strlen(help));
}

/* Digests and HMACs computed by the host (crypto_digest): raw bytes, hex or
 * base64 is up to the plugin. A module that uses them does not load on a
 * host older than crypto_digest (GW_FEATURE_CRYPTO_DIGEST). */

/* gw_digest_size returns the size of alg's digest (32, 48 or 64 bytes), or 0
 * for an unknown alg. 64 bytes hold any digest. */
static inline uint32_t gw_digest_size(int32_t alg) {
    switch (alg) {
    case GW_DIGEST_SHA256: case GW_DIGEST_HMACSHA256: return 32;
    case GW_DIGEST_SHA384: case GW_DIGEST_HMACSHA384: return 48;
    case GW_DIGEST_SHA512: case GW_DIGEST_HMACSHA512: return 64;
    }
    return 0;
}

/* gw_digest writes alg's digest of data (GW_DIGEST_SHA256, _SHA384,
 * _SHA512), or its HMAC keyed with key (GW_DIGEST_HMACSHA256, _HMACSHA384,
 * _HMACSHA512), into out, which holds gw_digest_size(alg) bytes, and returns
 * that size; or GW_RESULT_INVALID for an unknown alg or a key given to a
 * plain digest (pass NULL, 0 there). */
static inline int32_t gw_digest(int32_t alg, const void *key, uint32_t key_len, const void *data, uint32_t data_len, void *out) {
    uint32_t size = gw_digest_size(alg);
    if (size == 0) return GW_RESULT_INVALID;
    return gw_crypto_digest(alg, key, key_len, data, data_len, out, size);
}

/* gw_sha256 writes the SHA-256 digest of data into out and returns 32. */
static inline int32_t gw_sha256(const void *data, uint32_t data_len, uint8_t out[32]) {
    return gw_crypto_digest(GW_DIGEST_SHA256, 0, 0, data, data_len, out, 32);
}

/* gw_hmac_sha256 writes the HMAC-SHA256 of data keyed with key into out and
 * returns 32. */
static inline int32_t gw_hmac_sha256(const void *key, uint32_t key_len, const void *data, uint32_t data_len, uint8_t out[32]) {
    return gw_crypto_digest(GW_DIGEST_HMACSHA256, key, key_len, data, data_len, out, 32);
}

#ifdef __cplusplus
}
#endif

#endif /* WASMGATE_GATEWAY_H */
