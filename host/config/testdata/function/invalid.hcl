function "nosource" {
  source = "missing.wasm"
}

function "bad" {
  source        = "../plugins/auth.wasm"
  concurrency   = 0
  queue_timeout = "soon"
  idle_timeout  = "-1m"
  env           = { "A=B" = "x" }
}

function "warm" {
  source      = "../plugins/auth.wasm"
  concurrency = 1
  min_warm    = 2
}

upstream "be" {
  targets = ["http://127.0.0.1:9"]
}

route "GET /unknown" {
  function = function.nope
}

route "GET /both" {
  function = function.warm
  upstream = upstream.be
}

route "GET /path" {
  function      = function.warm
  upstream_path = "/x"
}

route "GET /quoted" {
  function = "warm"
}
