upstream "back" {
  targets = ["http://127.0.0.1:9001"]
}
function "chat" {
  source = "../plugins/auth.wasm"
}
route "GET /taken" {
  upstream = upstream.back
}

websocket_api "a" {
  path            = "/rooms/{id}"
  route_selection = "$request.header.x"
  max_frame_size  = "64KiB"
  max_message_size = "32KiB"
  idle_timeout    = "0s"

  route "$connect" {
  }
  route "$connekt" {
    function = function.chat
  }
  route "both" {
    function = function.chat
    upstream = upstream.back
  }
  route "$disconnect" {
    function = function.chat
    two_way  = true
  }
  route "fn" {
    function      = function.nope
    upstream_path = "/x"
  }
  route "fn" {
    upstream = upstream.back
  }
}

websocket_api "b" {
  path = "/taken"
}

websocket_api "a" {
  path = "/other"
  route "$default" {
    function = function.chat
  }
}

route "GET /tunnel" {
  upstream = upstream.back
  websocket {
    idle_timeout = "-1s"
  }
}
