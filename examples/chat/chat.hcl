# The chat example: an HTML page and a WebSocket API whose routes all go to
# one Wasm function (examples/functions/chat).
#
#   make chat            # builds, then serves this file on :8080
#   open http://localhost:8080/chat
#
# To run two instances sharing one room, start redis-server and uncomment the
# redis and kv blocks, then start a second gateway on other ports
# (see examples/chat/README.md).

gateway {
  listen       = [env("CHAT_LISTEN", ":8080")]
  admin_listen = env("CHAT_ADMIN", "127.0.0.1:9090")
}

# redis {
#   address = "127.0.0.1:6379"
# }
# kv {
#   backend = "redis"
# }

function "chat" {
  source = env("CHAT_FUNCTION", "../../bin/functions/chat.wasm")
}

route "GET /chat" {
  mock {
    headers = { "Content-Type" = "text/html; charset=utf-8" }
    body    = file("index.html")
  }
}

websocket_api "chat" {
  path            = "/chat/ws"
  route_selection = "$request.body.action"

  route "$connect" {
    function = function.chat
  }
  route "$disconnect" {
    function = function.chat
  }
  route "sendMessage" {
    function = function.chat
  }
  route "who" {
    function = function.chat
    two_way  = true
  }
  route "$default" {
    function = function.chat
    two_way  = true
  }
}
