# traffic.hcl: traffic management for `make bench` (docs/performance.md, "Traffic").
# Every route proxies to the benchmark backend; the limits are far above the
# offered load, so they measure the limiter's cost, not its refusals.
#
#   /plain    proxied, no limit, no cache (the baseline of this process)
#   /limited  proxied through a local (in-process) rate limit
#   /cached   answered from the in-memory response cache (one URL: all hits)
#
# The Redis-limited figure uses traffic-redis.hcl with REDIS_ADDR set; see
# docs/performance.md.

gateway {
  listen       = ["${LISTEN}"]
  admin_listen = "${ADMIN}"
}

log {
  level      = "warn"
  access_log = false
}

rate_limit "local" {
  rate  = 1000000000
  burst = 1000000000
}

upstream "backend" {
  targets = ["${BACKEND_URL}"]
}

route "GET /plain" {
  upstream      = upstream.backend
  upstream_path = "/"
}

route "GET /limited" {
  upstream      = upstream.backend
  upstream_path = "/"
  rate_limit    = rate_limit.local
}

route "GET /cached" {
  upstream      = upstream.backend
  upstream_path = "/"
  cache {
    ttl = "1h"
  }
}
