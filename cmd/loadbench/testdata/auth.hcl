# auth.hcl: security plugins for `make bench`. ${PLUGINS_DIR} is read from the
# environment (make bench sets it to bin/plugins). The load generator sends no
# headers, so both plugins read their credential from the query string:
#
#   /plain                          proxied, no plugin
#   /key?api_key=bench-key          key-auth (the key's sha256 is below)
#   /jwt?access_token=TOKEN         jwt-auth, RS256 (TOKEN is in cmd/loadbench/testdata/auth.token;
#                                   it expires in 2100 and was signed by a key that was thrown away)

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

plugin "key" {
  source = "${env("PLUGINS_DIR")}/key-auth.wasm"
  config = {
    keys   = [{ consumer = "bench", key_sha256 = "b0962662e937d44c699c8305d90cbf190b3150c59b13863d1380b5cc3c711bb7" }]
    header = ""
    query  = "api_key"
  }
}

plugin "jwt" {
  source = "${env("PLUGINS_DIR")}/jwt-auth.wasm"
  config = {
    keys       = [{ kid = "bench", pem = <<-EOT
      -----BEGIN PUBLIC KEY-----
      MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAlTfhF2B6hd9yFYJxsJt+
      3/1cKSF2MPi/s5xmsXwlRq3kUrNBr7ofKKAK4eIfQfpe+JiEPqnZe59RkbiJQkEs
      SXPqUw1mVZdh7b0mo4sB2/IbQe5enzQ3o0vYeNqElq1YMDJChOBLL4fMGLAxYZZI
      WfIWJKLzN8QTBSuTXOKflmeRQSM71HzYZN/+8b3sXolJ6z768ytg6Gu5Sd3F+R6I
      VskozfWtG1J86uabFwiCBcp9FOd4im/ZGCG/QYB/kn9Xgjwv2URNT4bCehdUEFyK
      xb+MqCiR52M7aJd7fJzYQ3plcfti4SnNiGTx1Q9NrIBSaun7VTir6EUHdesUWI5Z
      twIDAQAB
      -----END PUBLIC KEY-----
    EOT
    }]
    algorithms = ["RS256"]
    issuer     = "https://bench.test"
    audiences  = ["bench"]
    token      = { query = "access_token" }
    cache_size = 256
  }
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

route "GET /plain" {
  upstream      = upstream.backend
  upstream_path = "/"
}

route "GET /key" {
  upstream      = upstream.backend
  upstream_path = "/"
  pipeline      = [plugin.key]
}

route "GET /jwt" {
  upstream      = upstream.backend
  upstream_path = "/"
  pipeline      = [plugin.jwt]
}
