package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendEchoMessage(t *testing.T) {
	tests := []struct {
		in  uint64
		exp string
	}{
		{in: 0, exp: `{"action":"echo","n":0}`},
		{in: 123, exp: `{"action":"echo","n":123}`},
		{in: 18446744073709551615, exp: `{"action":"echo","n":18446744073709551615}`},
	}
	for _, tc := range tests {
		got := appendEchoMessage([]byte("old"), tc.in)
		assert.Equal(t, "old"+tc.exp, string(got))
		assert.True(t, json.Valid(got[3:]))
	}
}

func TestParseWSTarget(t *testing.T) {
	tests := []struct {
		in     string
		exp    wsTarget
		expErr string
	}{
		{in: "ws-fn=/ws/fn", exp: wsTarget{Name: "ws-fn", Path: "/ws/fn"}},
		{in: "q=/ws?x=1", exp: wsTarget{Name: "q", Path: "/ws?x=1"}},
		{in: "/ws/fn", expErr: `--target "/ws/fn": want name=/path, e.g. fn=/ws/fn`},
		{in: "=/ws", expErr: `--target "=/ws": want name=/path, e.g. fn=/ws/fn`},
		{in: "fn=ws", expErr: `--target "fn=ws": want name=/path, e.g. fn=/ws/fn`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseWSTarget(tc.in)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, got)
		})
	}
}

func TestWriteWSRTT(t *testing.T) {
	rep := &wsRTTReport{
		Conns: 32, Duration: "10s", Warmup: "1s", CPUs: 2, GoVersion: "go1.26.8",
		Targets: []*wsRTTResult{
			{Name: "ws-fn", Messages: 135330, MsgsPerSec: 13533.2, P50Ms: 2.07, P90Ms: 5.26, P99Ms: 10.72, MaxMs: 16.53},
			{Name: "ws-upstream", Messages: 10, MsgsPerSec: 1, P50Ms: 0.5, P90Ms: 0.9, P99Ms: 1, MaxMs: 1500, Errors: 3, FirstError: "read the reply: EOF"},
		},
	}
	exp := `
WebSocket round trips: 32 connections per route, 10s (+1s warm-up), one message {"action":"echo","n":N} outstanding per connection, 2 CPUs, go1.26.8.

| route | messages | msgs/s | p50 | p90 | p99 | max | errors |
|---|--:|--:|--:|--:|--:|--:|--:|
| ws-fn | 135330 | 13533 | 2.07ms | 5.26ms | 10.72ms | 16.53ms | 0 |
| ws-upstream | 10 | 1 | 500µs | 900µs | 1.00ms | 1.50s | 3 |

ws-upstream first error: read the reply: EOF
`
	var b bytes.Buffer
	writeWSRTT(&b, rep)
	assert.Equal(t, exp, b.String())
}

func TestRunWSRTT(t *testing.T) {
	// A server that answers every message with reply(message).
	serve := func(reply func([]byte) []byte) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, msg, err := c.Read(r.Context())
				if err != nil || c.Write(r.Context(), typ, reply(msg)) != nil {
					return
				}
			}
		}))
		t.Cleanup(srv.Close)
		return "ws" + strings.TrimPrefix(srv.URL, "http")
	}
	tests := []struct {
		name     string
		reply    func([]byte) []byte
		expEcho  bool
		expFirst string
	}{
		{name: "echo", reply: func(b []byte) []byte { return b }, expEcho: true},
		{
			name:     "not the echo",
			reply:    func([]byte) []byte { return []byte(`{"message":"Forbidden"}`) },
			expFirst: `reply "{\"message\":\"Forbidden\"}" to "{\"action\":\"echo\",\"n\":`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := runWSRTT(t.Context(), wsRTTConfig{URL: serve(tc.reply), Conns: 3, Duration: 100 * time.Millisecond, Warmup: 20 * time.Millisecond, Timeout: 5 * time.Second})
			require.NoError(t, err)
			assert.Equal(t, 3, res.Conns)
			if tc.expEcho {
				assert.Positive(t, res.Messages)
				assert.Zero(t, res.Errors, res.FirstError)
				assert.Positive(t, res.MsgsPerSec)
				assert.Positive(t, res.P50Ms)
				assert.GreaterOrEqual(t, res.MaxMs, res.P99Ms)
				return
			}
			assert.Zero(t, res.Messages)
			assert.Positive(t, res.Errors)
			assert.Contains(t, res.FirstError, tc.expFirst)
		})
	}

	_, err := runWSRTT(t.Context(), wsRTTConfig{URL: "ws://" + freeAddrT(t) + "/ws", Conns: 2, Duration: time.Second, Timeout: time.Second})
	require.ErrorContains(t, err, "connection 1 of 2: dial ws://")
}

func TestWSRTT(t *testing.T) {
	var rep wsRTTReport
	out := runWithFakeGateway(t, &rep, "wsrtt", "--conns", "4", "--duration", "200ms", "--warmup", "50ms")
	assert.Contains(t, out, "| route | messages | msgs/s | p50 | p90 | p99 | max | errors |")
	require.Len(t, rep.Targets, 2)
	for i, name := range []string{"ws-fn", "ws-upstream"} {
		tr := rep.Targets[i]
		assert.Equal(t, name, tr.Name)
		assert.Positive(t, tr.Messages, name)
		assert.Zero(t, tr.Errors, "%s: %s", name, tr.FirstError)
	}
}

func TestBackendEchoesPost(t *testing.T) {
	h := newBackendHandler()
	tests := []struct {
		name    string
		body    string
		ctype   string
		expType string
	}{
		{name: "json", body: `{"action":"echo","n":1}`, ctype: "application/json", expType: "application/json"},
		{name: "empty", body: "", expType: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/echo?size=3", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tc.body, rec.Body.String())
			assert.Equal(t, tc.expType, rec.Header().Get("Content-Type"))
		})
	}
}
