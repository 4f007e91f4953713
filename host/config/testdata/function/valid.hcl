function "orders" {
  source         = "../plugins/auth.wasm"
  config         = { table = "orders", token = env("WASMGATE_TEST_SECRET") }
  env            = { TABLE = "orders" }
  concurrency    = 4
  queue_timeout  = "250ms"
  min_warm       = 2
  idle_timeout   = "90s"
  strict_timeout = false
  limits {
    memory  = "16MiB"
    timeout = "1s"
  }
}

function "defaults" {
  source = "../plugins/cors.wasm"
}

api "shop" {
  base_path = "/shop"
  route "POST /orders" {
    function = function.orders
  }
}

route "GET /hello" {
  function = function.defaults
}
