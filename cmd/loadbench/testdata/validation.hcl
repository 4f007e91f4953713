# validation.hcl: request-validator + transform against a plain route, for
# the 2 KiB JSON body benchmark. ${PLUGINS_DIR} is read from the environment
# (make bench sets it to bin/plugins; make plugins builds the .wasm files).
#
#   POST /plain/{id}      proxied, no plugin (the baseline of this process)
#   POST /validated/{id}  proxied through request-validator + transform
#
# Both routes take POST only; give their targets the 2 KiB order of
# testdata/order2k.json (body2K in plugins/request-validator), as make bench does:
#   loadbench run --gateway bin/gateway \
#     --target validation-plain=builtin:validation.hcl:/plain/7 \
#     --target validated=builtin:validation.hcl:/validated/7 \
#     --body validation-plain=builtin:order2k.json --body validated=builtin:order2k.json
# The backend echoes a POST's body: /plain/7 answers the 2 KiB order, and
# /validated/7 the small body transform built from it.

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

plugin "validate" {
  source = "${env("PLUGINS_DIR")}/request-validator.wasm"
  config = {
    content_types = ["application/json"]
    path_params   = { id = "^[0-9]+$" }
    schema = {
      type                 = "object"
      required             = ["item", "quantity"]
      additionalProperties = false
      properties = {
        item     = { type = "string", minLength = 1, maxLength = 64 }
        quantity = { type = "integer", minimum = 1, maximum = 1000 }
        note     = { type = "string" }
        tags     = { type = "array", items = { type = "string" }, uniqueItems = true }
      }
    }
  }
}

plugin "transform" {
  source = "${env("PLUGINS_DIR")}/transform.wasm"
  config = {
    request = {
      path = "/"
      body = { sku = "$.body.item", qty = "$.body.quantity", order = "$path.id | int", rid = "$context.requestId" }
    }
  }
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

route "POST /plain/{id}" {
  upstream      = upstream.backend
  upstream_path = "/"
}

route "POST /validated/{id}" {
  upstream = upstream.backend
  pipeline = [plugin.validate, plugin.transform]
}
