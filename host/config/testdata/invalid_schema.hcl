# HCL's own schema checks: unknown attributes and blocks, missing required ones,
# wrong types.
gateway {
  listen_on = [":8080"]
}

logging {
  level = "info"
}

plugin "auth" {
  on_error = "deny"
}

upstream "users" {
  targets  = "http://127.0.0.1:9001"
  balance  = 3
  retry {
    attempts = "many"
  }
  target {
    weight = 2
  }
}

route "GET /x" {
  upstream = upstream.users
  mock {}
  unknown_block {}
}
