package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// runWithFakeGateway runs the loadbench command args with this test binary as
// the gateway (--gateway) and its --json FILE decoded into result; it returns
// what the command printed.
func runWithFakeGateway(t *testing.T, result any, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes")
	}
	setChildRole(t)
	self, err := os.Executable()
	require.NoError(t, err)
	jsonPath := filepath.Join(t.TempDir(), "result.json")
	var stdout, stderr bytes.Buffer
	code := dispatch(t.Context(), append(args, "--gateway", self, "--json", jsonPath), &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	b, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, result))
	return stdout.String()
}

// serveFakeWebSocketAPIs adds the WebSocket APIs of websocket.hcl to mux, as
// the fake gateway's stand-in for the real ones: /ws/fn echoes each message,
// /ws/upstream POSTs it to backend's /echo and sends back the answer, and
// /ready answers 200. It serves the admin listener on adminAddr: /metrics with
// gateway_websocket_connections, and /debug/pprof. stop closes the listener.
func serveFakeWebSocketAPIs(mux *http.ServeMux, adminAddr string, backend *url.URL) (stop func(), err error) {
	var fn, up atomic.Int64
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("GET /ws/fn", fakeWebSocketAPI(&fn, func(_ context.Context, msg []byte) ([]byte, error) { return msg, nil }))
	mux.Handle("GET /ws/upstream", fakeWebSocketAPI(&up, func(ctx context.Context, msg []byte) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, backend.String()+"/echo", bytes.NewReader(msg))
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}))

	admin := http.NewServeMux()
	admin.HandleFunc("GET /debug/pprof/", pprof.Index)
	admin.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# HELP %s Open WebSocket connections.\n# TYPE %[1]s gauge\n", wsConnGauge)
		fmt.Fprintf(w, "%s{api=\"fn\"} %d\n%[1]s{api=\"upstream\"} %d\n", wsConnGauge, fn.Load(), up.Load())
	})
	ln, err := net.Listen("tcp", adminAddr)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	srv := &http.Server{Handler: admin}
	go func() { _ = srv.Serve(ln) }()
	return func() { srv.Close() }, nil
}

// fakeWebSocketAPI accepts WebSocket connections, counting them in open, and
// answers every message with reply(message).
func fakeWebSocketAPI(open *atomic.Int64, reply func(context.Context, []byte) ([]byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		open.Add(1)
		defer open.Add(-1)
		ctx := r.Context()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			out, err := reply(ctx, msg)
			if err != nil {
				_ = c.Close(websocket.StatusInternalError, err.Error())
				return
			}
			if err := c.Write(ctx, typ, out); err != nil {
				return
			}
		}
	})
}
