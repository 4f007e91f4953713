/* hello: a gateway plugin. It copies the config's "greeting" into the
 * request header X-Hello and sets the response header X-Plugin.
 * Needs no libc: builds with and without wasi-libc.
 * Build: gateway plugin build . (see docs/plugins-c.md for the clang command) */
#include "gateway.h"

static char config[1024];
static const char *greeting;
static uint32_t greeting_len;

/* json_string finds "key" : "value" in a flat JSON object (no escapes). */
static int json_string(const char *s, uint32_t n, const char *key, const char **val, uint32_t *val_len) {
    uint32_t k = gw_strlen(key);
    for (uint32_t i = 0; i + k + 2 <= n; i++) {
        if (s[i] != '"' || !gw_memeq(s + i + 1, key, k) || s[i + k + 1] != '"') continue;
        uint32_t j = i + k + 2;
        while (j < n && (s[j] == ' ' || s[j] == ':')) j++;
        if (j >= n || s[j] != '"') return 0;
        uint32_t start = ++j;
        while (j < n && s[j] != '"') j++;
        if (j >= n) return 0;
        *val = s + start;
        *val_len = j - start;
        return 1;
    }
    return 0;
}

GW_EXPORT("on_configure") int32_t on_configure(uint32_t len) {
    int32_t n = gw_config_get(config, sizeof config);
    if (n < 0 || (uint32_t)n > sizeof config || !json_string(config, (uint32_t)n, "greeting", &greeting, &greeting_len)) {
        static const char msg[] = "config: set greeting, a string (config at most 1 KiB)";
        gw_set_error(msg, sizeof msg - 1);
        return 1;
    }
    return 0;
}

GW_EXPORT("on_request_headers") int32_t on_request_headers(void) {
    gw_log_str(GW_LOG_LEVEL_INFO, "hello: request");
    gw_header_set(GW_HEADER_KIND_REQUEST, "X-Hello", 7, greeting, greeting_len);
    return GW_ACTION_CONTINUE;
}

GW_EXPORT("on_response_headers") int32_t on_response_headers(void) {
    gw_header_set_str(GW_HEADER_KIND_RESPONSE, "X-Plugin", "hello");
    return GW_ACTION_CONTINUE;
}
