# pipeline.hcl: plugin pipelines for `make bench`. ${PLUGINS_DIR} is read from
# the environment (make bench sets it to bin/plugins).
#
#   /plain  proxied, no plugin (the baseline of this process)
#   /one    proxied through 1 no-op plugin
#   /three  proxied through 3 no-op plugins

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

plugin "noop1" {
  source = "${env("PLUGINS_DIR")}/noop.wasm"
}

plugin "noop2" {
  source = "${env("PLUGINS_DIR")}/noop.wasm"
}

plugin "noop3" {
  source = "${env("PLUGINS_DIR")}/noop.wasm"
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

route "GET /plain" {
  upstream      = upstream.backend
  upstream_path = "/"
}

route "GET /one" {
  upstream      = upstream.backend
  upstream_path = "/"
  pipeline      = [plugin.noop1]
}

route "GET /three" {
  upstream      = upstream.backend
  upstream_path = "/"
  pipeline      = [plugin.noop1, plugin.noop2, plugin.noop3]
}
