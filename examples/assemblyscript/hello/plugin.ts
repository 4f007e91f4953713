// hello: a gateway plugin. It copies the config's "greeting" into the
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
  gw.logInfo("hello: " + gw.path());
  gw.requestHeaderSet("X-Hello", greeting);
  return gw.ACTION_CONTINUE;
}

export function on_response_headers(): i32 {
  gw.responseHeaderSet("X-Plugin", "hello");
  return gw.ACTION_CONTINUE;
}
