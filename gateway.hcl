# gateway.hcl: the default configuration that `make run` serves.
#
# `make run` starts a small demo upstream on 127.0.0.1:9001 (cmd/demo-upstream)
# and this gateway on 127.0.0.1:8080. Try:
#
#   curl -i localhost:8080/hello                 # a mock integration: no upstream at all
#   curl -i localhost:8080/api/users/7           # proxied to the demo upstream, path rewritten
#   curl -i localhost:8080/api/echo/any/path?q=1 # the upstream echoes what it received
#   curl -i localhost:8080/api/slow              # the upstream is too slow: 504 after 1s
#   curl -i localhost:8080/nothing-here          # 404 {"message":"Not Found"}
#   curl -i localhost:8080/api/users/7 -H 'X-Forwarded-For: 203.0.113.9'
#                                                # (not trusted: plugins see your real IP)
#   curl -i localhost:8080/api/geo/x             # geo-tag plugin: X-Country added upstream
#   curl -s localhost:9090/metrics | grep gateway_requests_total
#
# A serverless todo API (examples/functions/todo, a Wasm function keeping its
# state in the gateway's KV store; no server to run):
#
#   curl -i localhost:8080/todos -d '{"title":"try wasmgate"}'   # 201 + Location
#   curl -s localhost:8080/todos                                # the list
#   curl -i -X PATCH localhost:8080/todos/ID -d '{"done":true}'
#   curl -i -X DELETE localhost:8080/todos/ID                   # 204
#   curl -s localhost:9090/metrics | grep gateway_function_
#
# Edit this file while the gateway runs: it reloads by itself (or on SIGHUP) and
# keeps serving the old config if the new one has errors. The full reference is
# docs/configuration.md.

gateway {
  listen       = ["127.0.0.1:8080"] # data plane; add listener blocks for TLS
  admin_listen = "127.0.0.1:9090"   # /healthz /readyz /metrics /config, POST /reload

  max_body_bytes   = "10MiB" # larger request bodies get 413
  shutdown_timeout = "15s"   # SIGTERM drains in-flight requests this long

  pipeline = [plugin.add_header] # runs on every route, before API and route pipelines
}

log {
  level      = "info"
  access_log = true # one JSON line per request
}

compression {
  enabled  = true # gzip or zstd, by Accept-Encoding
  min_size = "1KiB"
}

# Plugins are sandboxed WebAssembly modules (built by `make plugins` from
# examples/plugins and plugins/). Each runs at the request/response phases it
# exports, with a memory cap and a per-phase deadline.
plugin "add_header" {
  source = "bin/plugins/add-header.wasm"
  config = {
    request  = { "X-Gateway" = "wasmgate" }
    response = { "X-Frame-Options" = "DENY", "X-Content-Type-Options" = "nosniff" }
  }
  on_error = "deny" # a faulting plugin answers 500; "allow" skips it
  limits {
    memory  = "32MiB"
    timeout = "50ms"
  }
}

plugin "geo_tag" {
  source = "bin/plugins/geo-tag.wasm"
  config = {
    header   = "X-Country"
    networks = { "127.0.0.0/8" = "LO", "10.0.0.0/8" = "ZZ", "203.0.113.0/24" = "XX" }
    default  = "unknown"
  }
}

# An upstream is a pool of targets with balancing, health checks and a breaker.
upstream "demo" {
  targets = ["http://127.0.0.1:9001"]
  balance = "round_robin"

  response_timeout = "10s"

  retry {
    attempts  = 1 # idempotent requests only
    on_status = [502, 503]
  }

  health_check {
    path     = "/healthz"
    interval = "5s"
  }

  circuit_breaker {
    consecutive_failures = 5     # open after 5 failures in a row...
    open_timeout         = "10s" # ...fail fast with 503 for 10s, then probe
  }
}

# A route answered by the gateway itself (a mock integration).
route "GET /hello" {
  mock {
    status  = 200
    headers = { "Content-Type" = "application/json" }
    body    = jsonencode({ message = "Hello from the gateway", docs = "docs/configuration.md" })
  }
}

# An API groups routes under a base path, with a stage and stage variables.
api "demo" {
  base_path = "/api"
  stage     = "dev"
  variables = { env = "dev" }

  route "GET /users" {
    upstream      = upstream.demo
    upstream_path = "/users"
  }

  # {id} is a path parameter; upstream_path rewrites the forwarded path.
  route "GET /users/{id}" {
    upstream      = upstream.demo
    upstream_path = "/users/{id}"

    response_headers {
      set = { "Cache-Control" = "max-age=60" }
    }
  }

  # {proxy+} is greedy: it matches the rest of the path.
  route "ANY /echo/{proxy+}" {
    upstream      = upstream.demo
    upstream_path = "/echo/{proxy}"

    request_headers {
      set    = { "X-Stage" = "dev" }
      remove = ["Cookie"]
    }
  }

  # The route pipeline runs after the global one.
  route "ANY /geo/{proxy+}" {
    upstream      = upstream.demo
    upstream_path = "/echo/{proxy}"
    pipeline      = [plugin.geo_tag]
  }

  route "GET /slow" {
    upstream      = upstream.demo
    upstream_path = "/slow"
    timeout       = "1s" # the demo upstream sleeps 1s by default: 504
  }
}

# A function is a Wasm module that answers routes itself, like a Lambda behind
# API Gateway (docs/functions.md). `make build` compiles examples/functions/*
# into bin/functions/. It gets an API Gateway payload 2.0 event and returns
# {statusCode, headers, cookies, body}; it may use the KV store, logs, metrics
# and calls to declared upstreams.
function "todo" {
  source   = "bin/functions/todo.wasm"
  env      = { APP_NAME = "todo" } # os.Getenv inside the function
  min_warm = 1                     # instances created at load: no cold start
  # concurrency = 8                # reserved concurrency; excess waits queue_timeout, then 429
  # idle_timeout = "5m"            # instances above min_warm idle this long are closed

  limits {
    memory  = "64MiB"
    timeout = "3s" # then 504 {"message":"Endpoint request timed out"}
  }
}

# Plugins run around a function exactly as around an upstream (here the global
# add_header pipeline).
route "GET /todos" {
  function = function.todo
}

route "POST /todos" {
  function = function.todo
}

route "ANY /todos/{id}" {
  function = function.todo
}

# A WebSocket API (docs/websocket.md): open http://localhost:8080/chat in two
# tabs. The gateway holds each connection and calls the chat function for
# $connect, for every message (routed by its "action" field) and for
# $disconnect; the function broadcasts with connection_send. Send to a client
# from outside with the admin API: POST http://127.0.0.1:9090/@connections/{id}.
function "chat" {
  source = "bin/functions/chat.wasm"
}

route "GET /chat" {
  mock {
    headers = { "Content-Type" = "text/html; charset=utf-8" }
    body    = file("examples/chat/index.html")
  }
}

websocket_api "chat" {
  path         = "/chat/ws"
  idle_timeout = "10m" # no message either way for 10 minutes: closed with 1001

  route "$connect" { function = function.chat }    # ?name=... or 400
  route "$disconnect" { function = function.chat } # tells the room
  route "sendMessage" { function = function.chat } # {"action":"sendMessage","text":"hi"}
  route "who" {                                    # {"action":"who"}: answered to the sender
    function = function.chat
    two_way  = true
  }
  route "$default" { # anything else
    function = function.chat
    two_way  = true
  }
}
