package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/function"
	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

func event(method, id, body string) function.Event {
	ev := function.Event{Version: "2.0", RawPath: "/todos", Body: body}
	ev.RequestContext.HTTP.Method = method
	if id != "" {
		ev.RawPath += "/" + id
		ev.PathParameters = map[string]string{"id": id}
	}
	return ev
}

func TestTodoLifecycle(t *testing.T) {
	h := plugintest.New(t, `{}`)

	resp, err := function.Invoke(event("POST", "", `{"title":"buy milk"}`))
	require.NoError(t, err)
	require.Equal(t, 201, resp.StatusCode, resp.Body)
	var created Todo
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &created))
	assert.Equal(t, "buy milk", created.Title)
	assert.Equal(t, "/todos/"+created.ID, resp.Headers["Location"])
	assert.Contains(t, h.KV, "todo/"+created.ID)

	resp, err = function.Invoke(event("PATCH", created.ID, `{"done":true}`))
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, resp.Body, `"done":true`)

	resp, err = function.Invoke(event("GET", "", ""))
	require.NoError(t, err)
	var all []Todo
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &all))
	require.Len(t, all, 1)
	assert.True(t, all[0].Done)

	resp, err = function.Invoke(event("DELETE", created.ID, ""))
	require.NoError(t, err)
	assert.Equal(t, 204, resp.StatusCode)

	resp, err = function.Invoke(event("GET", created.ID, ""))
	require.NoError(t, err)
	assert.Equal(t, 404, resp.StatusCode)
	assert.JSONEq(t, `[]`, string(h.KV[indexKey]))
}

func TestTodoRejectsBadInput(t *testing.T) {
	plugintest.New(t, `{}`)
	for _, tc := range []struct {
		name string
		ev   function.Event
		exp  int
	}{
		{"empty title", event("POST", "", `{"title":" "}`), 400},
		{"not json", event("POST", "", `nope`), 400},
		{"unknown id", event("PATCH", "feed", `{}`), 404},
		{"method", event("PUT", "", ``), 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := function.Invoke(tc.ev)
			require.NoError(t, err)
			assert.Equal(t, tc.exp, resp.StatusCode)
		})
	}
}
