package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"testing"
)

// envChildRole makes the test binary act as the processes `loadbench run`
// starts: the loadbench subcommands, and a stand-in gateway for "run --config".
const envChildRole = "LOADBENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envChildRole) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		code := 0
		if len(os.Args) > 1 && os.Args[1] == "run" {
			code = fakeGateway(ctx, os.Args[2:])
		} else {
			code = dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
		}
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// fakeGateway serves the rendered config template the way the real gateway
// would for the built-in templates: /plain proxied to the backend, /mock
// answered itself, /validated/{id} answered 200 only to a POST of
// testdata/order2k.json as application/json (postChecker), and with an admin_listen the WebSocket APIs of
// websocket.hcl and the admin listener (serveFakeWebSocketAPIs). It fails if a
// placeholder was left unsubstituted.
func fakeGateway(ctx context.Context, args []string) int {
	if len(args) != 2 || args[0] != "--config" {
		fmt.Fprintf(os.Stderr, "fake gateway: want run --config FILE, got %q\n", args)
		return 2
	}
	b, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake gateway:", err)
		return 1
	}
	for _, p := range []string{placeholderListen, placeholderAdmin, placeholderBackendURL} {
		if regexp.MustCompile(regexp.QuoteMeta(p)).Match(b) {
			fmt.Fprintf(os.Stderr, "fake gateway: %s left in the config\n", p)
			return 1
		}
	}
	listen := regexp.MustCompile(`listen\s*=\s*\["([^"]+)"\]`).FindSubmatch(b)
	backend := regexp.MustCompile(`targets\s*=\s*\["([^"]+)"\]`).FindSubmatch(b)
	if listen == nil || backend == nil {
		fmt.Fprintln(os.Stderr, "fake gateway: no listen or targets in the config")
		return 1
	}
	u, err := url.Parse(string(backend[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake gateway:", err)
		return 1
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/"
		proxy.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /mock", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"mock":true}`))
	})
	order, err := readBody(builtinPrefix + "order2k.json")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake gateway:", err)
		return 1
	}
	mux.Handle("/validated/{id}", postChecker(order.Data))
	if admin := regexp.MustCompile(`admin_listen\s*=\s*"([^"]+)"`).FindSubmatch(b); admin != nil {
		stop, err := serveFakeWebSocketAPIs(mux, string(admin[1]), u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake gateway:", err)
			return 1
		}
		defer stop()
	}
	if err := serveUntilDone(ctx, string(listen[1]), mux, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fake gateway:", err)
		return 1
	}
	return 0
}
