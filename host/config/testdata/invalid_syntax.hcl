# A syntax error stops loading before any evaluation: the bad
# duration below is not reported.
gateway {
  read_timeout = "10x"
}

route "GET /x" {
  upstream = upstream.
}
