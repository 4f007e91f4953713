package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

const wsConfig = `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
plugin "apikey" {
  source = "${KEY_AUTH}"
  config = {
    keys   = [{ consumer = "acme", key_sha256 = "${KEY_HASH}" }]
    header = ""
    query  = "api_key"
  }
}
upstream "back" {
  targets = ["${BACK}"]
}
rate_limit "one" {
  rate  = 0.1
  burst = 1
  key   = "ip"
}
websocket_api "up" {
  path     = "/ws/up"
  pipeline = [plugin.apikey]
  stage    = "prod"

  route "$connect" {
    upstream      = upstream.back
    upstream_path = "/connect"
  }
  route "$disconnect" {
    upstream      = upstream.back
    upstream_path = "/disconnect"
  }
  route "$default" {
    upstream      = upstream.back
    upstream_path = "/default"
    two_way       = true
  }
  route "echo" {
    upstream      = upstream.back
    upstream_path = "/echo"
    two_way       = true
  }
  route "oneway" {
    upstream      = upstream.back
    upstream_path = "/oneway"
  }
  route "fail" {
    upstream      = upstream.back
    upstream_path = "/fail"
    two_way       = true
  }
  route "limited" {
    upstream      = upstream.back
    upstream_path = "/echo"
    two_way       = true
    rate_limit    = rate_limit.one
  }
}
websocket_api "small" {
  path             = "/ws/small"
  max_frame_size   = "1KiB"
  max_message_size = "4KiB"
  idle_timeout     = "1500ms"
  route "$default" {
    upstream = upstream.back
    upstream_path = "/echo"
    two_way  = true
  }
  route "$disconnect" {
    upstream      = upstream.back
    upstream_path = "/disconnect"
  }
}
websocket_api "origins" {
  path            = "/ws/origins"
  allowed_origins = ["app.example.com"]
  route "$default" {
    upstream      = upstream.back
    upstream_path = "/echo"
    two_way       = true
  }
}
websocket_api "nodefault" {
  path = "/ws/nodefault"
  route "echo" {
    upstream      = upstream.back
    upstream_path = "/echo"
    two_way       = true
  }
}
`

// wsEvent is one call the WebSocket backend received.
type wsEvent struct {
	Path   string
	Header http.Header
	Query  string
	Body   string
}

// wsBackend is the HTTP upstream of the WebSocket routes: /connect refuses
// ?deny=1 with 403, /echo, /default and /oneway answer the message, /fail
// answers 500.
type wsBackend struct {
	mu     sync.Mutex
	events []wsEvent
	got    chan wsEvent
}

func startWSBackend(t *testing.T) (*wsBackend, string) {
	b := &wsBackend{got: make(chan wsEvent, 256)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev := wsEvent{Path: r.URL.Path, Header: r.Header.Clone(), Query: r.URL.RawQuery, Body: string(body)}
		b.mu.Lock()
		b.events = append(b.events, ev)
		b.mu.Unlock()
		b.got <- ev
		switch r.URL.Path {
		case "/connect":
			if r.URL.Query().Get("deny") == "1" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, `{"message":"go away"}`)
			}
		case "/echo":
			_, _ = io.WriteString(w, "echo:"+string(body))
		case "/oneway": // dropped unless the route is two-way
			_, _ = io.WriteString(w, "oneway:"+string(body))
		case "/default":
			_, _ = io.WriteString(w, "default:"+string(body))
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return b, srv.URL
}

// next returns the next event for path, failing after a timeout.
func (b *wsBackend) next(t *testing.T, path string) wsEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-b.got:
			if ev.Path == path {
				return ev
			}
		case <-deadline:
			t.Fatalf("the backend got no %s call within 10s", path)
		}
	}
}

func wsURL(p *proc, path string) string { return "ws://" + p.Addr + path }

func dialWS(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: status %d: %v", url, status, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// readWS reads one message within 10 s.
func readWS(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	require.NoError(t, err)
	return string(b)
}

func writeWS(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
}

// closeStatus reads until the connection ends and returns its close status.
func closeStatus(t *testing.T, c *websocket.Conn, within time.Duration) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		require.NoError(t, ctx.Err(), "the connection did not close within %s", within)
		return -1, err.Error()
	}
}

func startWSGateway(t *testing.T) (*proc, *wsBackend) {
	b, url := startWSBackend(t)
	sum := sha256.Sum256([]byte("secret-key"))
	p := startGateway(t, wsConfig, map[string]string{
		"KEY_AUTH": wasmtest.Build(t, "../../plugins/key-auth"),
		"KEY_HASH": hex.EncodeToString(sum[:]),
		"BACK":     url,
	})
	return p, b
}

func TestWebSocketAPIHandshake(t *testing.T) {
	p, b := startWSGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The handshake's plugins run first: no key, no connection, and the
	// backend's $connect is not called.
	_, resp, err := websocket.Dial(ctx, wsURL(p, "/ws/up"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// A non-2xx answer of $connect refuses the handshake with its status and body.
	_, resp, err = websocket.Dial(ctx, wsURL(p, "/ws/up?api_key=secret-key&deny=1"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	ev := b.next(t, "/connect")
	assert.Equal(t, "CONNECT", ev.Header.Get("X-Event-Type"))

	// A plain GET is told to upgrade.
	code, hdr, body := get(t, client(), p.URL("/ws/up?api_key=secret-key"))
	assert.Equal(t, http.StatusUpgradeRequired, code, body)
	assert.Equal(t, "websocket", hdr.Get("Upgrade"))

	// The client cannot pose as the gateway's plugins.
	c, _, err := websocket.Dial(ctx, wsURL(p, "/ws/up?api_key=secret-key&room=7"), &websocket.DialOptions{
		HTTPHeader: http.Header{"X-Authorizer-Role": {"admin"}, "X-Connection-Id": {"forged"}, "X-Custom": {"kept"}},
	})
	require.NoError(t, err)
	defer c.CloseNow()
	ev = b.next(t, "/connect")
	assert.Empty(t, ev.Header.Get("X-Authorizer-Role"))
	assert.NotEqual(t, "forged", ev.Header.Get("X-Connection-Id"))
	assert.Equal(t, "kept", ev.Header.Get("X-Custom"), "other handshake headers reach $connect")
	id := ev.Header.Get("X-Connection-Id")
	assert.NotEmpty(t, id)
	assert.Equal(t, "$connect", ev.Header.Get("X-Route-Key"))
	assert.Equal(t, "up", ev.Header.Get("X-Api-Id"))
	assert.Equal(t, "prod", ev.Header.Get("X-Stage"))
	assert.Contains(t, ev.Query, "room=7", "the handshake's query reaches $connect")
	assert.Equal(t, "acme", ev.Header.Get("X-Authorizer-Auth-Consumer"), "plugin properties travel with the connection")
	assert.Empty(t, ev.Header.Get("Sec-Websocket-Key"))

	writeWS(t, c, `{"action":"echo","n":1}`)
	assert.Equal(t, `echo:{"action":"echo","n":1}`, readWS(t, c))
	ev = b.next(t, "/echo")
	assert.Equal(t, id, ev.Header.Get("X-Connection-Id"))
	assert.Equal(t, "MESSAGE", ev.Header.Get("X-Event-Type"))
	assert.Equal(t, "echo", ev.Header.Get("X-Route-Key"))
	assert.Equal(t, "acme", ev.Header.Get("X-Authorizer-Auth-Consumer"))

	// allowed_origins: a page elsewhere is refused; the listed origin and
	// clients without Origin (not browsers) are not.
	for origin, want := range map[string]int{"https://evil.example.net": http.StatusForbidden, "https://app.example.com": http.StatusSwitchingProtocols, "": http.StatusSwitchingProtocols} {
		hdr := http.Header{}
		if origin != "" {
			hdr.Set("Origin", origin)
		}
		oc, resp, err := websocket.Dial(ctx, wsURL(p, "/ws/origins"), &websocket.DialOptions{HTTPHeader: hdr})
		require.NotNil(t, resp, "%s: %v", origin, err)
		assert.Equal(t, want, resp.StatusCode, origin)
		if oc != nil {
			_ = oc.CloseNow()
		}
	}
}

func TestWebSocketAPIRouteSelection(t *testing.T) {
	p, b := startWSGateway(t)
	c := dialWS(t, wsURL(p, "/ws/up?api_key=secret-key"))

	tests := []struct {
		name, msg, want string
	}{
		{"selected route", `{"action":"echo"}`, `echo:{"action":"echo"}`},
		{"unknown action", `{"action":"nope"}`, `default:{"action":"nope"}`},
		{"missing action", `{"other":1}`, `default:{"other":1}`},
		{"action not a string", `{"action":42}`, `default:{"action":42}`},
		{"not JSON", `hello there`, `default:hello there`},
		{"JSON array", `["echo"]`, `default:["echo"]`},
		{"reserved key is not selectable", `{"action":"$connect"}`, `default:{"action":"$connect"}`},
		{"unicode", `{"action":"echo","text":"héllo ✓"}`, `echo:{"action":"echo","text":"héllo ✓"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeWS(t, c, tt.msg)
			assert.Equal(t, tt.want, readWS(t, c))
		})
	}

	// A one-way route answers nothing: the next two-way answer comes first.
	writeWS(t, c, `{"action":"oneway"}`)
	writeWS(t, c, `{"action":"echo","after":"oneway"}`)
	assert.Equal(t, `echo:{"action":"echo","after":"oneway"}`, readWS(t, c))
	b.next(t, "/oneway")

	// An integration failure is reported in API Gateway's words.
	writeWS(t, c, `{"action":"fail"}`)
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(readWS(t, c)), &m))
	assert.Equal(t, "Internal server error", m["message"])
	assert.NotEmpty(t, m["requestId"])
	assert.NotEmpty(t, m["connectionId"])

	// The route's rate limit: burst 1, then Too Many Requests.
	writeWS(t, c, `{"action":"limited"}`)
	assert.Equal(t, `echo:{"action":"limited"}`, readWS(t, c))
	writeWS(t, c, `{"action":"limited"}`)
	require.NoError(t, json.Unmarshal([]byte(readWS(t, c)), &m))
	assert.Equal(t, "Too Many Requests", m["message"])

	// Without $default, an unmatched message gets Forbidden.
	nd := dialWS(t, wsURL(p, "/ws/nodefault"))
	writeWS(t, nd, `{"action":"nope"}`)
	require.NoError(t, json.Unmarshal([]byte(readWS(t, nd)), &m))
	assert.Equal(t, "Forbidden", m["message"])
	writeWS(t, nd, `{"action":"echo"}`)
	assert.Equal(t, `echo:{"action":"echo"}`, readWS(t, nd))
}

func TestWebSocketConnectionsAPI(t *testing.T) {
	p, b := startWSGateway(t)
	c := dialWS(t, wsURL(p, "/ws/up?api_key=secret-key"))
	id := b.next(t, "/connect").Header.Get("X-Connection-Id")
	hc := client()

	// GET describes the connection.
	code, _, body := get(t, hc, p.AdminURL("/@connections/"+id))
	require.Equal(t, http.StatusOK, code, body)
	var info struct {
		ConnectedAt  time.Time `json:"connectedAt"`
		LastActiveAt time.Time `json:"lastActiveAt"`
		Identity     struct {
			SourceIP  string `json:"sourceIp"`
			UserAgent string `json:"userAgent"`
		} `json:"identity"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	assert.Equal(t, "127.0.0.1", info.Identity.SourceIP)
	assert.WithinDuration(t, time.Now(), info.ConnectedAt, time.Minute)
	assert.False(t, info.LastActiveAt.Before(info.ConnectedAt))

	// POST sends to the client.
	resp, _ := do(t, hc, http.MethodPost, p.AdminURL("/@connections/"+id), []byte(`{"hello":"from admin"}`))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `{"hello":"from admin"}`, readWS(t, c))

	// Over max_message_size: 413, nothing sent.
	resp, _ = do(t, hc, http.MethodPost, p.AdminURL("/@connections/"+id), make([]byte, 200<<10))
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	// DELETE closes it with 1000, and $disconnect runs with the code.
	resp, _ = do(t, hc, http.MethodDelete, p.AdminURL("/@connections/"+id), nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	code1, _ := closeStatus(t, c, 10*time.Second)
	assert.Equal(t, websocket.StatusNormalClosure, code1)
	ev := b.next(t, "/disconnect")
	assert.Equal(t, "DISCONNECT", ev.Header.Get("X-Event-Type"))
	assert.Equal(t, id, ev.Header.Get("X-Connection-Id"))
	assert.Equal(t, "1000", ev.Header.Get("X-Disconnect-Status-Code"))

	// Gone: 410 for every verb.
	require.Eventually(t, func() bool {
		code, _, _ := get(t, hc, p.AdminURL("/@connections/"+id))
		return code == http.StatusGone
	}, 5*time.Second, 20*time.Millisecond)
	resp, _ = do(t, hc, http.MethodPost, p.AdminURL("/@connections/"+id), []byte("x"))
	assert.Equal(t, http.StatusGone, resp.StatusCode)
	resp, _ = do(t, hc, http.MethodDelete, p.AdminURL("/@connections/nope"), nil)
	assert.Equal(t, http.StatusGone, resp.StatusCode)

	// A client's own close reaches $disconnect with its code.
	c2 := dialWS(t, wsURL(p, "/ws/up?api_key=secret-key"))
	b.next(t, "/connect")
	require.NoError(t, c2.Close(4000, "bye"))
	ev = b.next(t, "/disconnect")
	assert.Equal(t, "4000", ev.Header.Get("X-Disconnect-Status-Code"))
	assert.Equal(t, "bye", ev.Header.Get("X-Disconnect-Reason"))

	// Metrics count connections, messages and closes.
	_, _, metrics := get(t, hc, p.AdminURL("/metrics"))
	assert.Contains(t, metrics, `gateway_websocket_handshakes_total{api="up",result="accepted"} 2`)
	assert.Contains(t, metrics, `gateway_websocket_closes_total{api="up",code="1000"} 1`)
	assert.Contains(t, metrics, `gateway_websocket_connections{api="up"} 0`)
}

func TestWebSocketLimits(t *testing.T) {
	p, b := startWSGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A frame over max_frame_size (1 KiB) closes with 1009.
	c := dialWS(t, wsURL(p, "/ws/small"))
	writeWS(t, c, strings.Repeat("a", 1000))
	assert.Equal(t, "echo:"+strings.Repeat("a", 1000), readWS(t, c))
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("b", 2000))))
	code, _ := closeStatus(t, c, 10*time.Second)
	assert.Equal(t, websocket.StatusMessageTooBig, code)
	assert.Equal(t, "1009", b.next(t, "/disconnect").Header.Get("X-Disconnect-Status-Code"))

	// A message over max_message_size (4 KiB) in frames within the limit: 1009 too.
	c = dialWS(t, wsURL(p, "/ws/small"))
	w, err := c.Writer(ctx, websocket.MessageText)
	require.NoError(t, err)
	for range 5 {
		_, err := w.Write([]byte(strings.Repeat("c", 1000)))
		if err != nil {
			break // the gateway may already have closed
		}
	}
	_ = w.Close()
	code, _ = closeStatus(t, c, 10*time.Second)
	assert.Equal(t, websocket.StatusMessageTooBig, code)
	assert.Equal(t, "1009", b.next(t, "/disconnect").Header.Get("X-Disconnect-Status-Code"))

	// Pings keep a connection from idling out (idle_timeout 1.5 s)...
	pinger := dialWS(t, wsURL(p, "/ws/small"))
	pinger.CloseRead(context.Background()) // reads the pongs
	for range 3 {
		time.Sleep(700 * time.Millisecond)
		pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, pinger.Ping(pctx), "a pinging client is not idle")
		pcancel()
	}
	_ = pinger.Close(websocket.StatusNormalClosure, "")
	assert.Equal(t, "1000", b.next(t, "/disconnect").Header.Get("X-Disconnect-Status-Code"))

	// ... and so do messages; idle for idle_timeout: 1001.
	c = dialWS(t, wsURL(p, "/ws/small"))
	for range 3 {
		time.Sleep(700 * time.Millisecond)
		writeWS(t, c, "ping")
		assert.Equal(t, "echo:ping", readWS(t, c))
	}
	start := time.Now()
	code, reason := closeStatus(t, c, 10*time.Second)
	assert.Equal(t, websocket.StatusGoingAway, code)
	assert.Equal(t, "idle timeout", reason)
	assert.Less(t, time.Since(start), 5*time.Second)
	ev := b.next(t, "/disconnect")
	assert.Equal(t, "1001", ev.Header.Get("X-Disconnect-Status-Code"))
}

func TestWebSocketReloadAndShutdown(t *testing.T) {
	p, b := startWSGateway(t)
	hc := client()
	c := dialWS(t, wsURL(p, "/ws/up?api_key=secret-key"))
	gone := dialWS(t, wsURL(p, "/ws/nodefault"))
	writeWS(t, c, `{"action":"oneway"}`)
	b.next(t, "/oneway")

	// A reload keeps the connection; its next message follows the new
	// routes ("oneway" became two-way), and the removed API's clients get 1001.
	src, err := os.ReadFile(p.Config)
	require.NoError(t, err)
	cfg := strings.Replace(string(src), "upstream_path = \"/oneway\"", "upstream_path = \"/oneway\"\n    two_way = true", 1)
	cfg = cfg[:strings.Index(cfg, "websocket_api \"nodefault\"")]
	require.NoError(t, os.WriteFile(p.Config, []byte(cfg), 0o644))
	resp, body := do(t, hc, http.MethodPost, p.AdminURL("/reload"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	code, reason := closeStatus(t, gone, 10*time.Second)
	assert.Equal(t, websocket.StatusGoingAway, code)
	assert.Contains(t, reason, "removed")
	writeWS(t, c, `{"action":"oneway"}`)
	assert.Equal(t, `oneway:{"action":"oneway"}`, readWS(t, c))

	// SIGTERM: clients get 1001 and $disconnect runs before the exit.
	p.signal(syscall.SIGTERM)
	code, _ = closeStatus(t, c, 10*time.Second)
	assert.Equal(t, websocket.StatusGoingAway, code)
	for {
		ev := b.next(t, "/disconnect")
		if ev.Header.Get("X-Disconnect-Status-Code") == "1001" && ev.Header.Get("X-Disconnect-Reason") == "the gateway is shutting down" {
			break
		}
	}
	assert.Equal(t, 0, p.wait(20*time.Second))
}
