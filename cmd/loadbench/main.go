package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `usage: loadbench <command> [flags]

commands:
  run        benchmark the backend, a bare httputil.ReverseProxy and the gateway; print a markdown table
  load       run the built-in load generator against one URL
  backend    serve the fast benchmark backend
  bareproxy  serve a bare httputil.ReverseProxy (the baseline)
  idle       open many idle keep-alive connections and report the server's RSS per connection
  wsidle     start the gateway, open many idle WebSocket connections and report its RSS and heap per connection
  wsrtt      start the gateway and measure WebSocket round trips through two-way function and upstream routes

run "loadbench <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "load":
		return cmdLoad(ctx, args[1:], stdout, stderr)
	case "backend":
		return cmdBackend(ctx, args[1:], stdout, stderr)
	case "bareproxy":
		return cmdBareproxy(ctx, args[1:], stdout, stderr)
	case "idle":
		return cmdIdle(ctx, args[1:], stdout, stderr)
	case "wsidle":
		return cmdWSIdle(ctx, args[1:], stdout, stderr)
	case "wsrtt":
		return cmdWSRTT(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "loadbench: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", "", "http:// URL to GET, or POST with --body (required)")
	bodySource := fs.String("body", "", "POST this file (or builtin:NAME from testdata) as application/json instead of GET")
	conns := fs.Int("conns", 64, "concurrent keep-alive connections")
	duration := fs.Duration("duration", 5*time.Second, "how long to run")
	timeout := fs.Duration("timeout", 10*time.Second, "a request slower than this counts as an error")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: loadbench load --url URL [--body FILE] [--conns 64] [--duration 5s]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	u, err := url.Parse(*rawURL)
	if err != nil {
		fmt.Fprintf(stderr, "loadbench load: --url: %v\n", err)
		return 2
	}
	var body bodyFile
	if *bodySource != "" {
		if body, err = readBody(*bodySource); err != nil {
			fmt.Fprintf(stderr, "loadbench load: --body: %v\n", err)
			return 2
		}
	}
	res, err := runLoad(ctx, loadConfig{URL: u, Body: body.Data, Conns: *conns, Duration: *duration, Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "loadbench load: %v\n", err)
		return 1
	}
	h := res.Hist
	fmt.Fprintf(stdout, "%d requests in %s: %.0f req/s, p50 %s, p99 %s, max %s, errors %d, non-2xx %d, reconnects %d\n",
		res.Requests, res.Elapsed.Round(time.Millisecond), res.RPS(), fmtDur(h.Percentile(50)), fmtDur(h.Percentile(99)),
		fmtDur(h.Max()), res.Errors, res.Non2xx, res.Reconns)
	if res.FirstError != nil {
		fmt.Fprintf(stdout, "first error: %v\n", res.FirstError)
	}
	return 0
}
