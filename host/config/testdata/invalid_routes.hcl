# Route keys, integrations, references and upstream_path.
upstream "users" {
  targets = ["http://127.0.0.1:9001"]
}

plugin "auth" {
  source = "plugins/auth.wasm"
}

route "GET" {
  upstream = upstream.users
}

route "get /lower" {
  upstream = upstream.users
}

route "FETCH /x" {
  upstream = upstream.users
}

route "GET users" {
  upstream = upstream.users
}

route "GET /a/{proxy+}/b" {
  upstream = upstream.users
}

route "GET /a/{id}/b/{id}" {
  upstream = upstream.users
}

route "GET /a//b" {
  upstream = upstream.users
}

route "GET /a/" {
  upstream = upstream.users
}

route "GET /file-{id}" {
  upstream = upstream.users
}

route "GET /neither" {
}

route "GET /both" {
  upstream = upstream.users
  mock {}
}

route "GET /unknown" {
  upstream = upstream.billing
  pipeline = [plugin.auth, plugin.ratelimit]
}

route "GET /string-ref" {
  upstream = "users"
}

route "GET /users/{id}" {
  upstream      = upstream.users
  upstream_path = "/internal/{user}/{id}"
}

route "GET /static" {
  upstream      = upstream.users
  upstream_path = "/internal/{id}"
}

route "GET /relative" {
  upstream      = upstream.users
  upstream_path = "internal"
  host          = "https://api.example.com"
  timeout       = "-1s"
}

route "GET /mock" {
  mock {
    status = 99
  }
}

api "bad" {
  base_path = "/v1/{version}"
  pipeline  = [plugin.missing]
}

gateway {
  pipeline = [plugin.nope, upstream.users]
}

route "GET /mock-path" {
  upstream_path = "/x"
  mock {}
  mock {}
}

route "GET /headers" {
  mock {}
  request_headers {
    set    = { "Bad Header" = "x" }
    remove = ["X:Y"]
  }
  request_headers {
  }
}
