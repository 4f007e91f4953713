/* The conformance plugin in C: the behaviours of plugins/conformance/README.md.
 * Builds with wasi-libc (reactor) and with -nostdlib: it uses only gateway.h. */
#include "gateway.h"

#define LANG "c"

static char config[1024];
static uint32_t config_len;
static int32_t requests_metric = -1;
static char buf[8192];

GW_EXPORT("on_configure") int32_t on_configure(uint32_t len) {
    int32_t n = gw_config_get(config, sizeof config);
    if (n < 0 || (uint32_t)n > sizeof config) {
        static const char msg[] = "config longer than 1024 bytes";
        gw_set_error(msg, sizeof msg - 1);
        return 1;
    }
    config_len = (uint32_t)n;
    requests_metric = gw_counter("conformance_requests_total", "Requests seen by the conformance plugin.");
    return requests_metric < 0 ? 1 : 0;
}

/* set_hex sets request header name to the lowercase hex of sum[0:n]. */
static void set_hex(const char *name, const uint8_t *sum, uint32_t n) {
    static const char digits[] = "0123456789abcdef";
    char out[128];
    for (uint32_t i = 0; i < n && i < 64; i++) {
        out[2 * i] = digits[sum[i] >> 4];
        out[2 * i + 1] = digits[sum[i] & 15];
    }
    gw_header_set(GW_HEADER_KIND_REQUEST, name, gw_strlen(name), out, 2 * n);
}

/* digests: the host's SHA-256, HMAC-SHA256 and HMAC-SHA512, and the result
 * of a plain digest given a key, as request headers. */
static void digests(void) {
    uint8_t sum[64];
    if (gw_sha256("abc", 3, sum) == 32) set_hex("X-Conf-SHA256", sum, 32);
    if (gw_hmac_sha256("key", 3, "data", 4, sum) == 32) set_hex("X-Conf-HMAC-SHA256", sum, 32);
    int32_t n = gw_digest(GW_DIGEST_HMACSHA512, "key", 3, "data", 4, sum);
    if (n == 64) set_hex("X-Conf-HMAC-SHA512", sum, 64);
    n = gw_digest(GW_DIGEST_SHA256, "key", 3, "abc", 3, sum);
    char code[12];
    uint32_t len = 0, u = n < 0 ? (uint32_t)-n : (uint32_t)n;
    char rev[10];
    uint32_t r = 0;
    do { rev[r++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (n < 0) code[len++] = '-';
    while (r) code[len++] = rev[--r];
    gw_header_set(GW_HEADER_KIND_REQUEST, "X-Conf-Digest-Invalid", 21, code, len);
}

GW_EXPORT("on_request_headers") int32_t on_request_headers(void) {
    gw_log_str(GW_LOG_LEVEL_INFO, "conformance request from " LANG);
    gw_metric_add(requests_metric, 1.0);

    int32_t n = gw_path_get(buf, sizeof buf);
    uint32_t plen = n > 0 && (uint32_t)n <= sizeof buf ? (uint32_t)n : 0;
    if (plen == 8 && gw_memeq(buf, "/private", 8)) {
        char auth[256];
        if (gw_header_get_str(GW_HEADER_KIND_REQUEST, "Authorization", auth, sizeof auth) == GW_RESULT_NOT_FOUND)
            return gw_respond(401, "unauthorized");
    }
    if (plen == 4 && gw_memeq(buf, "/old", 4))
        gw_path_set("/new", 4);
    if (plen == 7 && gw_memeq(buf, "/digest", 7))
        digests();

    gw_header_set(GW_HEADER_KIND_REQUEST, "X-Conf-Config", 13, config, config_len);
    gw_header_add_str(GW_HEADER_KIND_REQUEST, "X-Conf-Lang", LANG);
    gw_header_remove_str(GW_HEADER_KIND_REQUEST, "X-Conf-Remove");

    /* KV: append one "x" to the value of "visits" per request. */
    n = gw_kv_get("visits", 6, buf, sizeof buf - 1);
    uint32_t vlen = n > 0 && (uint32_t)n < sizeof buf ? (uint32_t)n : 0;
    buf[vlen++] = 'x';
    if (gw_kv_set("visits", 6, buf, vlen, 0) == GW_RESULT_OK)
        gw_header_set(GW_HEADER_KIND_REQUEST, "X-Conf-Visits", 13, buf, vlen);
    return GW_ACTION_CONTINUE;
}

GW_EXPORT("on_request_body") int32_t on_request_body(void) {
    int32_t n = gw_request_body_read(buf + 1, sizeof buf - 2);
    if (n <= 0 || (uint32_t)n > sizeof buf - 2) return GW_ACTION_CONTINUE;
    buf[0] = '[';
    buf[n + 1] = ']';
    gw_request_body_write(buf, (uint32_t)n + 2);
    return GW_ACTION_CONTINUE;
}

GW_EXPORT("on_response_headers") int32_t on_response_headers(void) {
    gw_header_set_str(GW_HEADER_KIND_RESPONSE, "X-Conf-Resp", LANG);
    gw_header_remove_str(GW_HEADER_KIND_RESPONSE, "X-Upstream-Secret");
    return GW_ACTION_CONTINUE;
}
