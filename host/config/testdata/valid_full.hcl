# Every block and attribute, set to non-default values.
gateway {
  listen              = [":8080", "127.0.0.1:8081"]
  admin_listen        = "127.0.0.1:9191"
  read_timeout        = "31s"
  read_header_timeout = "11s"
  write_timeout       = "1m"
  idle_timeout        = "1h30m"
  max_header_bytes    = "64KiB"
  max_body_bytes      = "1GB"
  shutdown_timeout    = "250ms"
  trusted_proxies     = ["127.0.0.1/32", "::1/128", "10.1.2.3"]
  request_id_header   = "X-Trace-Id"
  pipeline            = [plugin.cors]

  listener "public_tls" {
    address = ":8443"
    h2c     = true
    tls {
      cert_file   = "tls/cert.pem"
      key_file    = "tls/key.pem"
      min_version = "1.3"
    }
  }
}

log {
  level      = "debug"
  output     = "stderr"
  access_log = false
}

compression {
  algorithms    = ["gzip"]
  min_size      = 512
  content_types = ["application/json", "text/*"]
  level         = "best"
}

route "GET /users/{id}" {
  upstream      = upstream.users
  upstream_path = "/internal/users/{id}"
  host          = "API.example.com"
  timeout       = "10s"
  compression   = false
  pipeline      = [plugin.auth]

  request_headers {
    set    = { "X-Env" = "prod" }
    add    = { "X-Via" = "gateway" }
    remove = ["Cookie"]
  }
  response_headers {
    remove = ["Server"]
  }
}

upstream "users" {
  targets                 = ["http://127.0.0.1:9001", "https://users.internal:8443/base/"]
  balance                 = "hash"
  hash_on                 = "header:X-User"
  connect_timeout         = "1s"
  response_timeout        = "2s"
  max_idle_conns_per_host = 16
  max_conns_per_host      = 100
  idle_conn_timeout       = "3s"
  tls_skip_verify         = true

  retry {
    attempts    = 3
    on_status   = [503]
    backoff     = "10ms"
    max_backoff = "1s"
  }
  health_check {
    path                = "/ready"
    interval            = "5s"
    timeout             = "1s"
    healthy_threshold   = 1
    unhealthy_threshold = 4
    expect_status       = [200, 204]
  }
  passive_health {
    consecutive_failures = 7
    eject_duration       = "1m"
  }
  circuit_breaker {
    consecutive_failures = 9
    failure_ratio        = 0.25
    min_requests         = 40
    interval             = "2m"
    open_timeout         = "45s"
    half_open_requests   = 2
    failure_statuses     = [500, 502]
  }
}

upstream "weighted" {
  balance = "least_requests"
  target {
    url    = "http://127.0.0.1:9003"
    weight = 3
  }
  target {
    url = "http://127.0.0.1:9004"
  }
}

api "petstore" {
  base_path = "/v1"
  host      = "pets.example.com"
  stage     = "prod"
  variables = { env = "prod" }
  pipeline  = [plugin.auth, plugin.cors]

  route "GET /pets" {
    upstream = upstream.weighted
  }
  route "ANY /pets/{proxy+}" {
    upstream      = upstream.weighted
    upstream_path = "/store/{proxy}"
    host          = "*.example.com"
  }
  route "GET /" {
    mock {
      status  = 201
      headers = { "Content-Type" = "application/json" }
      body    = jsonencode({ ok = true })
    }
  }
}

plugin "auth" {
  source    = "plugins/auth.wasm"
  config    = { issuer = upper("x"), keys = [1, 2], nested = { deep = true } }
  on_error  = "allow"
  pool_size = 8
  idle_timeout = "45s"
  limits {
    memory  = "16MiB"
    timeout = "20ms"
  }
}

plugin "cors" {
  source = "plugins/cors.wasm"
}
