//! The conformance plugin in Rust: the behaviours of plugins/conformance/README.md.
use gateway_plugin as gw;

const LANG: &str = "rust";

static mut CONFIG: Vec<u8> = Vec::new();
static mut REQUESTS: gw::Metric = gw::Metric(-1);

#[no_mangle]
pub extern "C" fn on_configure(_len: u32) -> i32 {
    unsafe { CONFIG = gw::config() };
    match gw::Metric::counter("conformance_requests_total", "Requests seen by the conformance plugin.") {
        Ok(m) => {
            unsafe { REQUESTS = m };
            0
        }
        Err(e) => {
            gw::set_error(&format!("define metric: {}", e));
            1
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{:02x}", c)).collect()
}

/// digests sets request headers to the host's SHA-256, HMAC-SHA256 and
/// HMAC-SHA512, and the result of a plain digest given a key.
fn digests() {
    gw::request_header_set("X-Conf-SHA256", &hex(&gw::sha256(b"abc")));
    gw::request_header_set("X-Conf-HMAC-SHA256", &hex(&gw::hmac_sha256(b"key", b"data")));
    if let Ok(sum) = gw::digest(gw::DIGEST_HMACSHA512, b"key", b"data") {
        gw::request_header_set("X-Conf-HMAC-SHA512", &hex(&sum));
    }
    let invalid = match gw::digest(gw::DIGEST_SHA256, b"key", b"abc") {
        Ok(_) => "ok".to_string(),
        Err(e) => e.0.to_string(),
    };
    gw::request_header_set("X-Conf-Digest-Invalid", &invalid);
}

#[no_mangle]
pub extern "C" fn on_request_headers() -> i32 {
    gw::log_info(&format!("conformance request from {}", LANG));
    unsafe { REQUESTS.add(1.0) };

    let path = gw::path();
    if path == "/private" && gw::header_get(gw::HEADER_KIND_REQUEST, "Authorization").is_none() {
        return gw::respond(401, b"unauthorized");
    }
    if path == "/old" {
        gw::set_path("/new");
    }
    if path == "/digest" {
        digests();
    }
    gw::header_set(gw::HEADER_KIND_REQUEST, "X-Conf-Config", unsafe { &CONFIG });
    gw::header_add(gw::HEADER_KIND_REQUEST, "X-Conf-Lang", LANG);
    gw::header_remove(gw::HEADER_KIND_REQUEST, "X-Conf-Remove");

    let mut visits = gw::kv_get("visits").ok().flatten().unwrap_or_default();
    visits.push(b'x');
    if gw::kv_set("visits", &visits, 0).is_ok() {
        gw::header_set(gw::HEADER_KIND_REQUEST, "X-Conf-Visits", &visits);
    }
    gw::ACTION_CONTINUE
}

#[no_mangle]
pub extern "C" fn on_request_body() -> i32 {
    if let Ok(body) = gw::request_body() {
        if !body.is_empty() {
            let mut out = Vec::with_capacity(body.len() + 2);
            out.push(b'[');
            out.extend_from_slice(&body);
            out.push(b']');
            let _ = gw::set_request_body(&out);
        }
    }
    gw::ACTION_CONTINUE
}

#[no_mangle]
pub extern "C" fn on_response_headers() -> i32 {
    gw::response_header_set("X-Conf-Resp", LANG);
    gw::header_remove(gw::HEADER_KIND_RESPONSE, "X-Upstream-Secret");
    gw::ACTION_CONTINUE
}
