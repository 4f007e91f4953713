# traffic-redis.hcl: the Redis-limited route, run by hand (needs a Redis):
#
#   redis-server --port 6399 --save "" --appendonly no &
#   REDIS_ADDR=127.0.0.1:6399 go run ./cmd/loadbench run --gateway bin/gateway \
#     --target plain=builtin:traffic-redis.hcl:/plain \
#     --target redis-limited=builtin:traffic-redis.hcl:/redis
#
#   /plain  proxied, no limit (the baseline of this process)
#   /redis  proxied through a Redis rate limit (one EVALSHA per request)

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

redis {
  address = "${env("REDIS_ADDR")}"
}

rate_limit "shared" {
  rate    = 1000000000
  burst   = 1000000000
  backend = "redis"
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

route "GET /plain" {
  upstream      = upstream.backend
  upstream_path = "/"
}

route "GET /redis" {
  upstream      = upstream.backend
  upstream_path = "/"
  rate_limit    = rate_limit.shared
}
