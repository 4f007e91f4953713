# Upstream validation.
upstream "balance" {
  targets = ["http://127.0.0.1:9001"]
  balance = "fastest"
}

upstream "hash_missing" {
  targets = ["http://127.0.0.1:9001"]
  balance = "hash"
}

upstream "hash_bad" {
  targets = ["http://127.0.0.1:9001"]
  balance = "hash"
  hash_on = "query:x"
}

upstream "hash_unused" {
  targets = ["http://127.0.0.1:9001"]
  hash_on = "ip"
}

upstream "urls" {
  targets = ["ftp://127.0.0.1", "http://", "127.0.0.1:9001", "http://127.0.0.1:9001/?q=1"]
}

upstream "empty" {
  targets = []
}

upstream "none" {
}

upstream "both" {
  targets = ["http://127.0.0.1:9001"]
  target {
    url = "http://127.0.0.1:9002"
  }
}

upstream "numbers" {
  targets                 = ["http://127.0.0.1:9001"]
  max_idle_conns_per_host = -1
  max_conns_per_host      = 1.5
  retry {
    attempts    = -2
    on_status   = [502, 99, 600]
    backoff     = "1s"
    max_backoff = "10ms"
  }
  health_check {
    path              = "healthz"
    healthy_threshold = 0
    expect_status     = [1000]
    interval          = "0s"
  }
  circuit_breaker {
    failure_ratio = 1.5
  }
}

upstream "ratio_zero" {
  targets = ["http://127.0.0.1:9001"]
  circuit_breaker {
    failure_ratio = 0
  }
}

upstream "never_trips" {
  targets = ["http://127.0.0.1:9001"]
  circuit_breaker {
    consecutive_failures = 0
  }
}

upstream "weights" {
  target {
    url    = "http://127.0.0.1:9001"
    weight = 0
  }
}
