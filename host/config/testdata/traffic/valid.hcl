redis {
  address = "127.0.0.1:6379"
  timeout = "100ms"
}

rate_limit "account" {
  rate    = 1000
  burst   = 2000
  backend = "redis"
  key     = "api"
}

rate_limit "per_ip" {
  rate             = 2.5
  key              = "ip"
  on_backend_error = "deny"
}

rate_limit "per_tenant" {
  rate  = 10
  burst = 20
  key   = "header:x-tenant-id"
}

cache_store {
  max_bytes = "1MiB"
}

gateway {
  listen     = ["127.0.0.1:0"]
  rate_limit = rate_limit.account
}

api "shop" {
  rate_limit = rate_limit.per_tenant
  route "GET /items" {
    rate_limit = rate_limit.per_ip
    mock { body = "[]" }
    cache {
      ttl                       = "30s"
      query                     = ["page"]
      headers                   = ["Accept"]
      allow_client_invalidation = true
    }
  }
}

usage_plan "gold" {
  rate  = 50
  burst = 100
  quota {
    limit  = 10000
    period = "month"
  }
  routes = ["GET /items"]
}

usage_plan "free" {
  quota {
    limit  = 100
    period = "day"
  }
}

upstream "stable" {
  targets = ["http://127.0.0.1:9001"]
}

upstream "canary" {
  targets = ["http://127.0.0.1:9002"]
}

route "GET /split" {
  upstreams = [
    { upstream = upstream.stable, weight = 90 },
    { upstream = upstream.canary, weight = 10 },
  ]
  sticky = "header:x-user"
}

kv {
  backend = "redis"
}
