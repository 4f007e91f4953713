upstream "back" {
  targets = ["http://127.0.0.1:9001"]
}
plugin "auth" {
  source = "../plugins/auth.wasm"
}
function "chat" {
  source = "../plugins/auth.wasm"
}
rate_limit "slow" {
  rate = 5
}

websocket_api "chat" {
  path            = "/chat"
  host            = "ws.example.com"
  stage           = "prod"
  route_selection = "$request.body.meta.kind"
  pipeline        = [plugin.auth]
  allowed_origins = ["app.example.com"]
  max_frame_size   = "16KiB"
  max_message_size = "64KiB"
  idle_timeout     = "1m"
  max_duration     = "30m"

  route "$connect" {
    function = function.chat
  }
  route "sendMessage" {
    upstream      = upstream.back
    upstream_path = "/messages"
    timeout       = "5s"
    two_way       = true
    rate_limit    = rate_limit.slow
  }
}

websocket_api "defaults" {
  path = "/ws"
  route "$default" {
    upstream = upstream.back
  }
}

route "GET /live" {
  upstream = upstream.back
  websocket {
    idle_timeout = "30s"
    max_duration = "1h"
  }
}

route "GET /plain" {
  upstream = upstream.back
}
