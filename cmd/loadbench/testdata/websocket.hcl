# websocket.hcl: the managed WebSocket APIs of `loadbench wsidle` and
# `loadbench wsrtt`. ${FUNCTIONS_DIR} is read from the environment (make bench
# sets it to bin/functions).
#
#   /ws/fn        two-way route "echo" answered by the wsecho Wasm function
#                 (examples/functions/wsecho): the reply is the message
#   /ws/upstream  two-way route "echo" whose message is POSTed to the benchmark
#                 backend, which echoes a POST's body: the reply is the message
#   /ready        a mock route, for the readiness check
#
# Clients send {"action":"echo","n":123}; the default route selection
# ($request.body.action) picks the route "echo". wsidle keeps connections to
# /ws/fn open without sending anything, so the idle timeout is raised above
# any benchmark's length.

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

function "wsecho" {
  source   = "${env("FUNCTIONS_DIR")}/wsecho.wasm"
  min_warm = 4
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

websocket_api "fn" {
  path         = "/ws/fn"
  idle_timeout = "1h"

  route "echo" {
    function = function.wsecho
    two_way  = true
  }
}

websocket_api "upstream" {
  path         = "/ws/upstream"
  idle_timeout = "1h"

  route "echo" {
    upstream      = upstream.backend
    upstream_path = "/echo"
    two_way       = true
  }
}

route "GET /ready" {
  mock {
    status = 200
    body   = "ready\n"
  }
}
