# function.hcl: a function route against a mock route for `make bench`.
# ${FUNCTIONS_DIR} is read from the environment (make bench sets it to
# bin/functions).
#
#   /hello       answered by the hello Wasm function (examples/functions/hello)
#   /hello-soft  the same with strict_timeout = false (calls never cut short)
#   /mock   answered by a mock integration (the baseline of this process)

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

function "hello" {
  source   = "${env("FUNCTIONS_DIR")}/hello.wasm"
  min_warm = 4
}

function "hello_soft" {
  source         = "${env("FUNCTIONS_DIR")}/hello.wasm"
  min_warm       = 4
  strict_timeout = false
}

route "GET /hello" {
  function = function.hello
}

route "GET /hello-soft" {
  function = function.hello_soft
}

route "GET /mock" {
  mock {
    status  = 200
    headers = { "Content-Type" = "text/plain; charset=utf-8" }
    body    = "hello, world\n"
  }
}

# Unused by the benchmark; the loadbench backend must still be declared somewhere.
upstream "backend" {
  targets = ["${BACKEND_URL}"]
}
