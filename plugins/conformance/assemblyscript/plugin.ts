// The conformance plugin in AssemblyScript: the behaviours of
// plugins/conformance/README.md.
import * as gw from "../../../sdk/assemblyscript/assembly/index";
export { gateway_abi_v1 } from "../../../sdk/assemblyscript/assembly/index";

const LANG = "assemblyscript";

let conf: ArrayBuffer = new ArrayBuffer(0);
let requests: i32 = -1;

export function on_configure(len: u32): i32 {
  conf = gw.config();
  requests = gw.counter("conformance_requests_total", "Requests seen by the conformance plugin.");
  if (requests < 0) {
    gw.setError("define metric: result " + requests.toString());
    return 1;
  }
  return 0;
}

// hex returns the lowercase hex of b.
function hex(b: ArrayBuffer): string {
  const digits = "0123456789abcdef";
  const u = Uint8Array.wrap(b);
  let s = "";
  for (let i = 0; i < u.length; i++) {
    s += digits.charAt(u[i] >> 4) + digits.charAt(u[i] & 15);
  }
  return s;
}

// digests sets request headers to the host's SHA-256, HMAC-SHA256 and
// HMAC-SHA512, and the result of a plain digest given a key.
function digests(): void {
  const abc = String.UTF8.encode("abc");
  const key = String.UTF8.encode("key");
  const data = String.UTF8.encode("data");
  gw.requestHeaderSet("X-Conf-SHA256", hex(gw.sha256(abc)));
  gw.requestHeaderSet("X-Conf-HMAC-SHA256", hex(gw.hmacSha256(key, data)));
  const sum = gw.digest(gw.DIGEST_HMACSHA512, key, data);
  if (sum != null) gw.requestHeaderSet("X-Conf-HMAC-SHA512", hex(sum!));
  const invalid = gw.digest(gw.DIGEST_SHA256, key, abc);
  gw.requestHeaderSet("X-Conf-Digest-Invalid", invalid == null ? gw.lastError().toString() : "ok");
}

export function on_request_headers(): i32 {
  gw.logInfo("conformance request from " + LANG);
  gw.metricAdd(requests, 1.0);
  const path = gw.path();
  if (path == "/private" && gw.headerGet(gw.HEADER_KIND_REQUEST, "Authorization") == null) {
    return gw.respond(401, "unauthorized");
  }
  if (path == "/old") gw.setPath("/new");
  if (path == "/digest") digests();
  gw.headerSetBytes(gw.HEADER_KIND_REQUEST, "X-Conf-Config", conf);
  gw.headerAdd(gw.HEADER_KIND_REQUEST, "X-Conf-Lang", LANG);
  gw.headerRemove(gw.HEADER_KIND_REQUEST, "X-Conf-Remove");

  const old = gw.kvGet("visits");
  const n = old == null ? 0 : old!.byteLength;
  const visits = new Uint8Array(n + 1);
  if (old != null) visits.set(Uint8Array.wrap(old!), 0);
  visits[n] = 0x78; // 'x'
  if (gw.kvSet("visits", visits.buffer, 0) == gw.RESULT_OK) {
    gw.headerSetBytes(gw.HEADER_KIND_REQUEST, "X-Conf-Visits", visits.buffer);
  }
  return gw.ACTION_CONTINUE;
}

export function on_request_body(): i32 {
  const body = gw.requestBody();
  if (body != null && body!.byteLength > 0) {
    const out = new Uint8Array(body!.byteLength + 2);
    out[0] = 0x5b; // '['
    out.set(Uint8Array.wrap(body!), 1);
    out[body!.byteLength + 1] = 0x5d; // ']'
    gw.setRequestBody(out.buffer);
  }
  return gw.ACTION_CONTINUE;
}

export function on_response_headers(): i32 {
  gw.responseHeaderSet("X-Conf-Resp", LANG);
  gw.headerRemove(gw.HEADER_KIND_RESPONSE, "X-Upstream-Secret");
  return gw.ACTION_CONTINUE;
}
