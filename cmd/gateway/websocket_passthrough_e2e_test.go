package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

const passthroughConfig = `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
plugin "apikey" {
  source    = "${KEY_AUTH}"
  pool_size = 1
  config = {
    keys   = [{ consumer = "acme", key_sha256 = "${KEY_HASH}" }]
    header = ""
    query  = "api_key"
  }
}
upstream "echo" {
  targets = ["${ECHO}"]
}
route "GET /echo" {
  upstream = upstream.echo
  pipeline = [plugin.apikey]
}
route "GET /idle" {
  upstream      = upstream.echo
  upstream_path = "/echo"
  websocket {
    idle_timeout = "1s"
  }
}
route "GET /short" {
  upstream      = upstream.echo
  upstream_path = "/echo"
  websocket {
    max_duration = "1500ms"
  }
}
`

// startEchoWS serves a WebSocket echo; the message "close-me" makes it close
// with 4001 "bye".
func startEchoWS(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if string(b) == "close-me" {
				_ = c.Close(4001, "bye")
				return
			}
			if err := c.Write(context.Background(), typ, b); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestWebSocketPassthrough(t *testing.T) {
	sum := sha256.Sum256([]byte("secret-key"))
	p := startGateway(t, passthroughConfig, map[string]string{
		"KEY_AUTH": wasmtest.Build(t, "../../plugins/key-auth"),
		"KEY_HASH": hex.EncodeToString(sum[:]),
		"ECHO":     startEchoWS(t),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Plugins run on the handshake.
	_, resp, err := websocket.Dial(ctx, wsURL(p, "/echo"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The plugin has one instance: connections that stay open must not keep
	// it, or the second handshake would wait for the first connection.
	var conns []*websocket.Conn
	for i := range 3 {
		c := dialWS(t, wsURL(p, "/echo?api_key=secret-key"))
		conns = append(conns, c)
		writeWS(t, c, "hello "+string(rune('a'+i)))
		assert.Equal(t, "hello "+string(rune('a'+i)), readWS(t, c))
	}
	// Binary frames pass as they are.
	require.NoError(t, conns[0].Write(ctx, websocket.MessageBinary, []byte{0, 1, 2, 0xff}))
	typ, b, err := conns[0].Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, websocket.MessageBinary, typ)
	assert.Equal(t, []byte{0, 1, 2, 0xff}, b)

	// The upstream's close code reaches the client.
	writeWS(t, conns[1], "close-me")
	code, reason := closeStatus(t, conns[1], 10*time.Second)
	assert.Equal(t, websocket.StatusCode(4001), code)
	assert.Equal(t, "bye", reason)

	// Idle for idle_timeout: both sides get 1001.
	c := dialWS(t, wsURL(p, "/idle"))
	writeWS(t, c, "x")
	assert.Equal(t, "x", readWS(t, c))
	start := time.Now()
	code, reason = closeStatus(t, c, 10*time.Second)
	assert.Equal(t, websocket.StatusGoingAway, code)
	assert.Equal(t, "idle timeout", reason)
	assert.Less(t, time.Since(start), 5*time.Second)

	// max_duration ends even a busy connection.
	c = dialWS(t, wsURL(p, "/short"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
		err := c.Write(wctx, websocket.MessageText, []byte("busy"))
		if err == nil {
			_, _, err = c.Read(wctx)
		}
		wcancel()
		if err != nil {
			assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "%v", err)
			break
		}
		require.True(t, time.Now().Before(deadline), "max_duration did not end the connection")
		time.Sleep(100 * time.Millisecond)
	}

	// Metrics: frames both ways, and what ended the connections.
	require.Eventually(t, func() bool {
		_, _, m := get(t, client(), p.AdminURL("/metrics"))
		// The close handshake of "close-me" ends with either side's TCP
		// close first, so its reason is not asserted.
		return containsAll(m,
			`gateway_upgraded_closes_total{reason="idle_timeout",upstream="echo"} 1`,
			`gateway_upgraded_closes_total{reason="max_duration",upstream="echo"} 1`,
			`gateway_upgraded_connections{upstream="echo"} 2`,
			`gateway_upgraded_frames_total{direction="client_to_upstream",upstream="echo"}`,
			`gateway_upgraded_frames_total{direction="upstream_to_client",upstream="echo"}`)
	}, 5*time.Second, 50*time.Millisecond, "metrics:\n%s", func() string { _, _, m := get(t, client(), p.AdminURL("/metrics")); return m }())
}

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
