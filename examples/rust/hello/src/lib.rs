//! hello: a gateway plugin. It copies the config's "greeting" into the
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
    gw::log_info(&format!("hello: {}", gw::path()));
    gw::request_header_set("X-Hello", unsafe { &GREETING });
    gw::ACTION_CONTINUE
}

#[no_mangle]
pub extern "C" fn on_response_headers() -> i32 {
    gw::response_header_set("X-Plugin", "hello");
    gw::ACTION_CONTINUE
}
