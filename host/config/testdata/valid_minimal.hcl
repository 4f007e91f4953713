# The smallest config: one mock route; everything else is a default.
route "GET /hello" {
  mock {
    body = "hi"
  }
}
