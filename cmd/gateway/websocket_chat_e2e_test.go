package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// chatConfig is examples/chat's API on one instance; ${REDIS_BLOCKS} shares
// the registry and the function's KV store between instances.
const chatConfig = `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
${REDIS_BLOCKS}
function "chat" {
  source = "${CHAT}"
}
websocket_api "chat" {
  path = "/chat/ws"
  route "$connect"    { function = function.chat }
  route "$disconnect" { function = function.chat }
  route "sendMessage" { function = function.chat }
  route "who" {
    function = function.chat
    two_way  = true
  }
  route "$default" {
    function = function.chat
    two_way  = true
  }
}
`

// chatMsg is what the chat function sends.
type chatMsg struct {
	Type    string   `json:"type"`
	From    string   `json:"from"`
	Text    string   `json:"text"`
	Name    string   `json:"name"`
	Names   []string `json:"names"`
	Message string   `json:"message"`
}

func readChat(t *testing.T, c *websocket.Conn) chatMsg {
	t.Helper()
	var m chatMsg
	require.NoError(t, json.Unmarshal([]byte(readWS(t, c)), &m))
	return m
}

// chatGateway runs the chat API; redisBlocks is "" or the redis and kv blocks.
func chatGateway(t *testing.T, redisBlocks string) *proc {
	p := startGateway(t, chatConfig, map[string]string{
		"CHAT":         wasmtest.Build(t, "../../examples/functions/chat"),
		"REDIS_BLOCKS": redisBlocks,
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway %s logs:\n%s", p.Addr, p.Logs())
		}
	})
	return p
}

func TestWebSocketChatFunction(t *testing.T) {
	p := chatGateway(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// $connect answered 400 by the function: no connection.
	_, resp, err := websocket.Dial(ctx, wsURL(p, "/chat/ws"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	ann := dialWS(t, wsURL(p, "/chat/ws?name=ann"))
	bob := dialWS(t, wsURL(p, "/chat/ws?name=bob"))
	assert.Equal(t, chatMsg{Type: "joined", Name: "bob"}, readChat(t, ann))

	// A message is broadcast by the function with connection_send.
	writeWS(t, bob, `{"action":"sendMessage","text":"hi ann ✓"}`)
	for _, c := range []*websocket.Conn{ann, bob} {
		m := readChat(t, c)
		assert.Equal(t, "message", m.Type)
		assert.Equal(t, "bob", m.From)
		assert.Equal(t, "hi ann ✓", m.Text)
	}

	// Two-way routes answer the sender only.
	writeWS(t, ann, `{"action":"who"}`)
	assert.ElementsMatch(t, []string{"ann", "bob"}, readChat(t, ann).Names)
	writeWS(t, ann, `{"action":"dance"}`)
	m := readChat(t, ann)
	assert.Equal(t, "error", m.Type)
	assert.Contains(t, m.Message, "unknown action")

	// $disconnect runs the function, which tells the others.
	require.NoError(t, bob.Close(websocket.StatusNormalClosure, ""))
	assert.Equal(t, chatMsg{Type: "left", Name: "bob"}, readChat(t, ann))
	writeWS(t, ann, `{"action":"who"}`)
	assert.Equal(t, []string{"ann"}, readChat(t, ann).Names)

	// The function closes a connection with connection_close.
	writeWS(t, ann, `{"action":"leave"}`)
	code, reason := closeStatus(t, ann, 10*time.Second)
	assert.Equal(t, websocket.StatusNormalClosure, code)
	assert.Equal(t, "disconnected by the @connections API", reason)
}

func TestWebSocketMultiInstance(t *testing.T) {
	rs := startRedis(t)
	blocks := `
redis {
  address = "` + rs.Addr() + `"
}
kv {
  backend = "redis"
}`
	a := chatGateway(t, blocks)
	b := chatGateway(t, blocks)
	hc := client()

	ann := dialAs(t, wsURL(a, "/chat/ws?name=ann"), "ann")
	bob := dialAs(t, wsURL(b, "/chat/ws?name=bob"), "bob")
	assert.Equal(t, chatMsg{Type: "joined", Name: "bob"}, readChat(t, ann), "a function on B reached a client on A")

	writeWS(t, ann, `{"action":"sendMessage","text":"across"}`)
	assert.Equal(t, "across", readChat(t, bob).Text, "a function on A reached a client on B")
	assert.Equal(t, "across", readChat(t, ann).Text)

	// The chat function keeps connection ids to itself: read ann's from the
	// registry in redis.
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer rc.Close()
	annID := connByAgent(t, rc, b, hc, "ann")

	// GET, POST and DELETE on B reach ann on A.
	code, _, body := get(t, hc, b.AdminURL("/@connections/"+annID))
	require.Equal(t, http.StatusOK, code, body)
	var info struct {
		Identity struct {
			SourceIP string `json:"sourceIp"`
		} `json:"identity"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &info))
	assert.Equal(t, "127.0.0.1", info.Identity.SourceIP)
	resp, _ := do(t, hc, http.MethodPost, b.AdminURL("/@connections/"+annID), []byte(`{"type":"message","from":"ops","text":"via B"}`))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "via B", readChat(t, ann).Text)
	resp, _ = do(t, hc, http.MethodDelete, b.AdminURL("/@connections/"+annID), nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	code1, _ := closeStatus(t, ann, 10*time.Second)
	assert.Equal(t, websocket.StatusNormalClosure, code1)
	assert.Equal(t, chatMsg{Type: "left", Name: "ann"}, readChat(t, bob), "$disconnect ran on A")

	// A killed instance's connections leave the registry: B answers 410 and
	// the records are swept.
	carol := dialAs(t, wsURL(a, "/chat/ws?name=carol"), "carol")
	assert.Equal(t, chatMsg{Type: "joined", Name: "carol"}, readChat(t, bob))
	carolID := connByAgent(t, rc, b, hc, "carol")
	code, _, _ = get(t, hc, b.AdminURL("/@connections/"+carolID))
	require.Equal(t, http.StatusOK, code)
	a.kill()
	_ = carol.CloseNow()
	require.Eventually(t, func() bool {
		code, _, _ := get(t, hc, b.AdminURL("/@connections/"+carolID))
		return code == http.StatusGone
	}, 30*time.Second, 200*time.Millisecond, "B still finds the killed instance's connection")
	require.Eventually(t, func() bool {
		n, err := rc.Exists(context.Background(), "wsgw:ws:conn:"+carolID).Result()
		return err == nil && n == 0
	}, 30*time.Second, 200*time.Millisecond)
	resp, _ = do(t, hc, http.MethodPost, b.AdminURL("/@connections/"+carolID), []byte("x"))
	assert.Equal(t, http.StatusGone, resp.StatusCode)
}

// connByAgent returns the id of the connection whose User-Agent is agent,
// reading the ids from the registry in redis and the identities from p's
// @connections API.
func connByAgent(t *testing.T, rc *redis.Client, p *proc, hc *http.Client, agent string) string {
	t.Helper()
	ctx := context.Background()
	var id string
	require.Eventually(t, func() bool {
		insts, err := rc.SMembers(ctx, "wsgw:ws:instances").Result()
		if err != nil {
			return false
		}
		for _, inst := range insts {
			ids, _ := rc.SMembers(ctx, "wsgw:ws:conns:"+inst).Result()
			for _, cand := range ids {
				code, _, body := get(t, hc, p.AdminURL("/@connections/"+cand))
				var in struct {
					Identity struct {
						UserAgent string `json:"userAgent"`
					} `json:"identity"`
				}
				if code == http.StatusOK && json.Unmarshal([]byte(body), &in) == nil && in.Identity.UserAgent == agent {
					id = cand
					return true
				}
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "no connection with User-Agent %q in the registry", agent)
	return id
}

// dialAs dials with a User-Agent naming the client.
func dialAs(t *testing.T, url, agent string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"User-Agent": {agent}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}
