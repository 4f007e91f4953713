# Duplicate blocks, routes and addresses, each pointing to the first definition.
gateway {
  listen       = [":8080", "0.0.0.0:9000", ":8080"]
  admin_listen = "0.0.0.0:9000"

  listener "tls" {
    address = ":8443"
  }
  listener "tls" {
    address = ":8444"
  }
}

gateway {
}

upstream "users" {
  targets = ["http://127.0.0.1:9001"]
}

upstream "users" {
  targets = ["http://127.0.0.1:9002"]
}

plugin "auth" {
  source = "plugins/auth.wasm"
}

plugin "auth" {
  source = "plugins/auth.wasm"
}

api "v1" {
  base_path = "/v1"
  route "GET /users/{id}" {
    upstream = upstream.users
  }
}

api "v1" {
}

route "GET /users/{id}" {
  upstream = upstream.users
}

route "GET /users/{name}" {
  upstream = upstream.users
}

route "GET /v1/users/{user}" {
  upstream = upstream.users
}

# Different host: not a duplicate.
route "GET /users/{who}" {
  upstream = upstream.users
  host     = "other.example.com"
}

# Different method: not a duplicate.
route "ANY /users/{who}" {
  upstream = upstream.users
  pipeline = [plugin.auth, plugin.auth]
}

log {
}

log {
}
