# Durations, sizes, addresses, files, plugins, functions and secrets.
gateway {
  listen           = ["8080", "localhost:http-alt-nope", ":8081"]
  admin_listen     = "nohostport"
  read_timeout     = "10x"
  write_timeout    = 30
  idle_timeout     = env("WASMGATE_TEST_SECRET")
  max_header_bytes = "1XB"
  max_body_bytes   = "-5MiB"
  trusted_proxies  = ["10.0.0.0/8", "10.0.0.0/33", "not-an-ip", env("WASMGATE_TEST_SECRET")]

  listener "tls" {
    address = ":8443"
    tls {
      cert_file   = "tls/missing.pem"
      key_file    = "tls/key.pem"
      min_version = "1.4"
    }
  }
}

log {
  level = "verbose"
}

compression {
  algorithms    = ["br"]
  content_types = ["json"]
  level         = "max"
}

upstream "secret" {
  targets = [env("WASMGATE_TEST_SECRET")]
}

plugin "missing" {
  source = "plugins/missing.wasm"
}

plugin "dir" {
  source   = "plugins"
  on_error = "ignore"
  limits {
    memory  = "1KiB"
    timeout = "0s"
  }
}

route "GET /env" {
  mock {
    body = env("WASMGATE_TEST_DEFINITELY_UNSET")
  }
}

route "GET /file" {
  mock {
    body = file("missing.txt")
  }
}

route "GET /secret-timeout" {
  mock {}
  timeout = env("WASMGATE_TEST_SECRET")
}

plugin "limits" {
  source = "plugins/auth.wasm"
  config = { token = env("WASMGATE_TEST_SECRET") }
  limits {
    memory = "8GiB"
  }
  limits {
  }
}
