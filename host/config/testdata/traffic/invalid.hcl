rate_limit "a" {
  rate    = 0
  key     = "cookie:x"
  backend = "memcached"
}

rate_limit "b" {
  rate    = 1
  backend = "redis"
}

route "GET /x" {
  rate_limit = rate_limit.nope
  mock {}
  cache {
    ttl = "0s"
  }
}

usage_plan "p" {
  quota {
    limit  = 10
    period = "year"
  }
  routes = ["GET /nope"]
}

upstream "u" {
  targets = ["http://127.0.0.1:9001"]
}

route "GET /s1" {
  upstreams = [{ upstream = upstream.u, weight = -1 }, { upstream = upstream.missing, weight = 1 }]
  sticky    = "query:x"
}

route "GET /s2" {
  upstreams = [{ upstream = upstream.u, weight = 0 }]
}

route "GET /s3" {
  upstream  = upstream.u
  upstreams = [{ upstream = upstream.u, weight = 1 }]
}

kv {
  backend = "redis"
}
