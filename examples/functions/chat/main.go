// Command chat is the function behind the chat example's WebSocket API
// (examples/chat): it keeps the room's members in the gateway's KV store
// and broadcasts with connection_send, so it works the same on one gateway
// or on several sharing Redis.
//
//	websocket_api "chat" {
//	  path = "/chat/ws"
//	  route "$connect"    { function = function.chat }
//	  route "$disconnect" { function = function.chat }
//	  route "sendMessage" { function = function.chat }
//	  route "who"         { function = function.chat  two_way = true }
//	  route "$default"    { function = function.chat  two_way = true }
//	}
//
// Clients send {"action":"sendMessage","text":"hi"}, {"action":"who"} and
// {"action":"leave"} (the function closes the connection with connection_close);
// everyone receives {"type":"message","from":"ann","text":"hi","at":...},
// {"type":"joined","name":"ann"} and {"type":"left","name":"ann"}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wasmgate/gateway/sdk/go/function"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// membersKey holds the room: a JSON array of member.
const membersKey = "members"

// maxText caps one chat message, in bytes.
const maxText = 2000

type member struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func init() {
	function.HandleWebSocket(handle)
}

func handle(_ context.Context, ev function.WebSocketEvent) (function.Response, error) {
	rc := ev.RequestContext
	switch rc.RouteKey {
	case "$connect":
		name := strings.TrimSpace(ev.QueryStringParameters["name"])
		if name == "" || utf8.RuneCountInString(name) > 32 {
			return function.JSON(400, map[string]string{"message": "connect with ?name=YOURNAME (1 to 32 characters)"}), nil
		}
		if err := update(func(ms []member) []member { return append(ms, member{ID: rc.ConnectionID, Name: name}) }); err != nil {
			return function.Response{}, err
		}
		broadcast(map[string]any{"type": "joined", "name": name}, rc.ConnectionID)
		return function.Response{StatusCode: 200}, nil
	case "$disconnect":
		var gone string
		err := update(func(ms []member) []member {
			out := ms[:0]
			for _, m := range ms {
				if m.ID == rc.ConnectionID {
					gone = m.Name
					continue
				}
				out = append(out, m)
			}
			return out
		})
		if err == nil && gone != "" {
			broadcast(map[string]any{"type": "left", "name": gone}, "")
		}
		return function.Response{StatusCode: 200}, err
	case "sendMessage":
		var msg struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(ev.Body), &msg); err != nil || strings.TrimSpace(msg.Text) == "" || len(msg.Text) > maxText {
			_ = function.SendToConnection(rc.ConnectionID, mustJSON(map[string]any{"type": "error", "message": "send {\"action\":\"sendMessage\",\"text\":\"...\"} with 1 to 2000 bytes of text"}))
			return function.Response{StatusCode: 200}, nil
		}
		from := nameOf(rc.ConnectionID)
		broadcast(map[string]any{"type": "message", "from": from, "text": msg.Text, "at": time.Now().UnixMilli()}, "")
		return function.Response{StatusCode: 200}, nil
	case "who":
		ms, _, err := load()
		if err != nil {
			return function.Response{}, err
		}
		names := make([]string, 0, len(ms))
		for _, m := range ms {
			names = append(names, m.Name)
		}
		return function.JSON(200, map[string]any{"type": "who", "names": names}), nil
	default:
		var msg struct {
			Action string `json:"action"`
		}
		if json.Unmarshal([]byte(ev.Body), &msg) == nil && msg.Action == "leave" {
			// The gateway closes the connection (1000); $disconnect tells the room.
			return function.Response{StatusCode: 200}, function.CloseConnection(rc.ConnectionID)
		}
		return function.JSON(200, map[string]any{"type": "error", "message": "unknown action; send {\"action\":\"sendMessage\",\"text\":\"...\"}, {\"action\":\"who\"} or {\"action\":\"leave\"}"}), nil
	}
}

// load reads the room and the raw value it came from (for compare-and-swap).
func load() ([]member, []byte, error) {
	raw, ok, err := plugin.KVGet(membersKey)
	if err != nil || !ok {
		return nil, nil, err
	}
	var ms []member
	if err := json.Unmarshal(raw, &ms); err != nil {
		return nil, raw, nil // a corrupt room starts over
	}
	return ms, raw, nil
}

// update applies f to the room atomically, retrying on concurrent changes.
func update(f func([]member) []member) error {
	for range 20 {
		ms, raw, err := load()
		if err != nil {
			return err
		}
		next, _ := json.Marshal(f(ms))
		ok, err := plugin.KVCompareAndSwap(membersKey, raw, next, 0)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return errors.New("chat: the member list kept changing; try again")
}

func nameOf(id string) string {
	ms, _, _ := load()
	for _, m := range ms {
		if m.ID == id {
			return m.Name
		}
	}
	return "someone"
}

// broadcast sends v to every member but skip, dropping members that are gone.
func broadcast(v any, skip string) {
	ms, _, err := load()
	if err != nil {
		plugin.LogError("chat: read members: " + err.Error())
		return
	}
	b := mustJSON(v)
	var gone []string
	for _, m := range ms {
		if m.ID == skip {
			continue
		}
		if err := function.SendToConnection(m.ID, b); errors.Is(err, function.ErrGone) {
			gone = append(gone, m.ID)
		}
	}
	if len(gone) > 0 {
		_ = update(func(ms []member) []member {
			out := ms[:0]
			for _, m := range ms {
				drop := false
				for _, g := range gone {
					drop = drop || g == m.ID
				}
				if !drop {
					out = append(out, m)
				}
			}
			return out
		})
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func main() {}
