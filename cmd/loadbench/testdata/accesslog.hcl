# accesslog.hcl: the proxied route with the default JSON access log on
# (written to a file in the benchmark's temp dir), to show what logging costs.

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "info"
  access_log = true
  output     = "${env("TMPDIR", "/tmp")}/loadbench-access.log"
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

route "GET /plain" {
  upstream      = upstream.backend
  upstream_path = "/"
}
