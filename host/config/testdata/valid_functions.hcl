# env() and file() values are secrets; the other functions are plain.
gateway {
  admin_listen = ""
}

upstream "billing" {
  targets = [env("WASMGATE_TEST_TARGET"), "http://127.0.0.1:9002"]
}

route "POST /charge" {
  upstream = upstream.billing
  timeout  = env("WASMGATE_TEST_UNSET", "5s")
  request_headers {
    set = {
      "Authorization" = "Bearer ${env("WASMGATE_TEST_SECRET")}"
      "X-Plain"       = format("%s-%d", lower("ABC"), 7)
    }
  }
}

route "GET /key" {
  mock {
    body    = file("secret.txt")
    headers = merge({ "A" = "1" }, { "B" = "2" })
  }
}

plugin "auth" {
  source = "plugins/auth.wasm"
  config = {
    issuer  = "https://issuer.example.com"
    secret  = env("WASMGATE_TEST_SECRET")
    keys    = concat(["public"], [file("secret.txt")])
    jwks    = jsondecode(file("keys.json"))
    literal = jsondecode("{\"a\":1}")
  }
}
