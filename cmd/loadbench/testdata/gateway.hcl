# gateway.hcl: the default `loadbench run --gateway` config template.
# ${BACKEND_URL}, ${LISTEN} and ${ADMIN} are replaced before the gateway reads it.
#
#   /plain  proxied to the benchmark backend's "/" (about 100 bytes of JSON)
#   /mock   answered by the gateway itself, no upstream

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

route "GET /plain" {
  upstream      = upstream.backend
  upstream_path = "/"
}

route "GET /mock" {
  mock {
    status  = 200
    headers = { "Content-Type" = "application/json" }
    body    = jsonencode({ message = "hello from the gateway mock", id = 12345, items = [1, 2, 3, 4, 5] })
  }
}
