package main

// The templates of `gateway plugin new` (delimiters [[ ]]). Every scaffold is
// the same hello plugin: it copies the config's "greeting" into the request
// header X-Hello and sets the response header X-Plugin to its name; the test
// builds it with its toolchain and runs one request through the real host.

const scaffoldTest = `package [[.TestPkg]]

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
	"github.com/wasmgate/gateway/sdk/toolchain"
)

// TestPlugin builds the plugin with its toolchain (skipped with the install
// command when missing) and runs one request through the real host.
func TestPlugin(t *testing.T) {
	root, err := toolchain.Root(".")
	require.NoError(t, err)
	opts := toolchain.Options{Root: root}
	tc, err := toolchain.Find("[[.Lang]]", opts)
	if err != nil {
		t.Skipf("[[.Name]]: %v", err)
	}
	cache, err := wasmtest.CacheDir()
	require.NoError(t, err)
	src, err := filepath.Abs("[[.Src]]")
	require.NoError(t, err)
	module, err := tc.BuildCached(t.Context(), src, filepath.Join(cache, "plugins"), opts)
	require.NoError(t, err)

	var seen http.Header
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.WriteHeader(http.StatusOK)
	})
	g := wasmtest.New(t, wasm.Options{}, next, &config.Plugin{
		Name: "[[.Name]]", Source: module, ConfigJSON: []byte(` + "`" + `{"greeting":"hello"}` + "`" + `), Timeout: 10 * time.Second,
	})
	w := g.Do(httptest.NewRequest("GET", "/", nil), &pipeline.Request{RequestID: "test-1"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "hello", seen.Get("X-Hello"))
	assert.Equal(t, "[[.Name]]", w.Header().Get("X-Plugin"))
}
`

const scaffoldGo = `// Command [[.Name]] is a gateway plugin: it copies the config's "greeting"
// into the request header X-Hello and sets the response header X-Plugin.
//
// Build: gateway plugin build . (or GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o [[.Name]].wasm .)
package main

import (
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	Greeting string ` + "`" + `json:"greeting"` + "`" + `
}

// cfg is set once per instance by OnConfigure; an instance is single-threaded.
var cfg Config

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: func(raw []byte) error { return plugin.DecodeConfig(raw, &cfg) },
		OnRequestHeaders: func(req plugin.Request) plugin.Action {
			plugin.LogInfo("[[.Name]]: " + req.Path())
			req.Header().Set("X-Hello", cfg.Greeting)
			return plugin.Continue
		},
		OnResponseHeaders: func(_ plugin.Request, resp plugin.Response) plugin.Action {
			resp.Header().Set("X-Plugin", "[[.Name]]")
			return plugin.Continue
		},
	})
}

func main() {}
`

const scaffoldCargo = `[package]
name = "[[.Name]]"
version = "0.1.0"
edition = "2018"

[lib]
path = "src/lib.rs"
crate-type = ["cdylib"]

[dependencies]
# Path of sdk/rust in the gateway repository.
gateway_plugin = { path = "../../../sdk/rust" }

[profile.release]
opt-level = "s"
lto = true
panic = "abort"
strip = true
`

const scaffoldRust = `//! [[.Name]]: a gateway plugin. It copies the config's "greeting" into the
//! request header X-Hello and sets the response header X-Plugin.
//!
//! Build: gateway plugin build . (or cargo build --release --target wasm32-wasi)
use gateway_plugin as gw;

static mut GREETING: String = String::new();

/// Returns the string value of "key" in a flat JSON object (no escapes).
fn json_string(config: &str, key: &str) -> Option<String> {
    let at = config.find(&format!("\"{}\"", key))? + key.len() + 2;
    let rest = config[at..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

#[no_mangle]
pub extern "C" fn on_configure(_len: u32) -> i32 {
    let config = String::from_utf8_lossy(&gw::config()).into_owned();
    match json_string(&config, "greeting") {
        Some(g) => {
            unsafe { GREETING = g };
            0
        }
        None => {
            gw::set_error("config: set greeting, a string");
            1
        }
    }
}

#[no_mangle]
pub extern "C" fn on_request_headers() -> i32 {
    gw::log_info(&format!("[[.Name]]: {}", gw::path()));
    gw::request_header_set("X-Hello", unsafe { &GREETING });
    gw::ACTION_CONTINUE
}

#[no_mangle]
pub extern "C" fn on_response_headers() -> i32 {
    gw::response_header_set("X-Plugin", "[[.Name]]");
    gw::ACTION_CONTINUE
}
`

const scaffoldC = `/* [[.Name]]: a gateway plugin. It copies the config's "greeting" into the
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
    gw_log_str(GW_LOG_LEVEL_INFO, "[[.Name]]: request");
    gw_header_set(GW_HEADER_KIND_REQUEST, "X-Hello", 7, greeting, greeting_len);
    return GW_ACTION_CONTINUE;
}

GW_EXPORT("on_response_headers") int32_t on_response_headers(void) {
    gw_header_set_str(GW_HEADER_KIND_RESPONSE, "X-Plugin", "[[.Name]]");
    return GW_ACTION_CONTINUE;
}
`

const scaffoldAS = `// [[.Name]]: a gateway plugin. It copies the config's "greeting" into the
// request header X-Hello and sets the response header X-Plugin.
// Build: gateway plugin build . (see docs/plugins-assemblyscript.md for the asc command)
import * as gw from "../../../sdk/assemblyscript/assembly/index";
export { gateway_abi_v1 } from "../../../sdk/assemblyscript/assembly/index";

let greeting = "";

// jsonString finds "key" : "value" in a flat JSON object (no escapes).
function jsonString(s: string, key: string): string | null {
  let i = s.indexOf("\"" + key + "\"");
  if (i < 0) return null;
  i += key.length + 2;
  while (i < s.length && (s.charAt(i) == " " || s.charAt(i) == ":")) i++;
  if (i >= s.length || s.charAt(i) != "\"") return null;
  const end = s.indexOf("\"", i + 1);
  if (end < 0) return null;
  return s.substring(i + 1, end);
}

export function on_configure(len: u32): i32 {
  const g = jsonString(String.UTF8.decode(gw.config()), "greeting");
  if (g == null) {
    gw.setError("config: set greeting, a string");
    return 1;
  }
  greeting = g;
  return 0;
}

export function on_request_headers(): i32 {
  gw.logInfo("[[.Name]]: " + gw.path());
  gw.requestHeaderSet("X-Hello", greeting);
  return gw.ACTION_CONTINUE;
}

export function on_response_headers(): i32 {
  gw.responseHeaderSet("X-Plugin", "[[.Name]]");
  return gw.ACTION_CONTINUE;
}
`
