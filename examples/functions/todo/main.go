// Command todo is a small serverless todo API keeping its state in the
// gateway's KV store:
//
//	GET    /todos       list every todo
//	POST   /todos       create one from {"title": "..."}; 201 with the todo
//	GET    /todos/{id}  one todo, or 404
//	PATCH  /todos/{id}  update title and/or done
//	DELETE /todos/{id}  remove it; 204
//
// The set of ids is one KV key ("index"), updated with compare-and-swap so
// concurrent creations do not lose each other; each todo is the key "todo/ID".
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/wasmgate/gateway/sdk/go/function"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Todo is one item.
type Todo struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Done    bool      `json:"done"`
	Created time.Time `json:"created"`
}

// indexKey holds the JSON list of ids.
const indexKey = "index"

func init() {
	function.HandleFunc(handle)
}

func handle(_ context.Context, ev function.Event) (function.Response, error) {
	id := ev.PathParameters["id"]
	switch method := ev.RequestContext.HTTP.Method; {
	case id == "" && method == "GET":
		return list()
	case id == "" && method == "POST":
		return create(ev)
	case id != "" && method == "GET":
		t, ok, err := load(id)
		if err != nil || !ok {
			return notFound(id), err
		}
		return function.JSON(200, t), nil
	case id != "" && method == "PATCH":
		return update(id, ev)
	case id != "" && method == "DELETE":
		return remove(id)
	}
	return message(405, "method not allowed"), nil
}

func message(status int, msg string) function.Response {
	return function.JSON(status, map[string]string{"message": msg})
}

func notFound(id string) function.Response { return message(404, "no todo "+id) }

func list() (function.Response, error) {
	ids, _, err := index()
	if err != nil {
		return function.Response{}, err
	}
	out := make([]Todo, 0, len(ids))
	for _, id := range ids {
		if t, ok, err := load(id); err != nil {
			return function.Response{}, err
		} else if ok {
			out = append(out, t)
		}
	}
	return function.JSON(200, out), nil
}

func create(ev function.Event) (function.Response, error) {
	body, err := ev.BodyBytes()
	if err != nil {
		return message(400, err.Error()), nil
	}
	var in struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal(body, &in); err != nil || strings.TrimSpace(in.Title) == "" {
		return message(400, `send {"title": "..."}`), nil
	}
	var rnd [6]byte
	plugin.Random(rnd[:])
	t := Todo{ID: hex.EncodeToString(rnd[:]), Title: in.Title, Created: plugin.Now().UTC()}
	if err := save(t); err != nil {
		return function.Response{}, err
	}
	if err := editIndex(func(ids []string) []string { return append(ids, t.ID) }); err != nil {
		return function.Response{}, err
	}
	r := function.JSON(201, t)
	r.Headers["Location"] = ev.RawPath + "/" + t.ID
	plugin.LogInfo("todo created " + t.ID)
	return r, nil
}

func update(id string, ev function.Event) (function.Response, error) {
	t, ok, err := load(id)
	if err != nil || !ok {
		return notFound(id), err
	}
	body, err := ev.BodyBytes()
	if err != nil {
		return message(400, err.Error()), nil
	}
	var in struct {
		Title *string `json:"title"`
		Done  *bool   `json:"done"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return message(400, `send {"title": "...", "done": true}`), nil
	}
	if in.Title != nil {
		t.Title = *in.Title
	}
	if in.Done != nil {
		t.Done = *in.Done
	}
	if err := save(t); err != nil {
		return function.Response{}, err
	}
	return function.JSON(200, t), nil
}

func remove(id string) (function.Response, error) {
	if _, ok, err := load(id); err != nil || !ok {
		return notFound(id), err
	}
	if err := plugin.KVDelete("todo/" + id); err != nil {
		return function.Response{}, err
	}
	err := editIndex(func(ids []string) []string {
		return slices.DeleteFunc(ids, func(s string) bool { return s == id })
	})
	return function.Response{StatusCode: 204}, err
}

func load(id string) (Todo, bool, error) {
	b, ok, err := plugin.KVGet("todo/" + id)
	if err != nil || !ok {
		return Todo{}, false, err
	}
	var t Todo
	return t, true, json.Unmarshal(b, &t)
}

func save(t Todo) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return plugin.KVSet("todo/"+t.ID, b, 0)
}

// index returns the ids and the raw value they were read from (nil if absent).
func index() ([]string, []byte, error) {
	b, ok, err := plugin.KVGet(indexKey)
	if err != nil || !ok {
		return nil, nil, err
	}
	var ids []string
	return ids, b, json.Unmarshal(b, &ids)
}

// editIndex applies edit to the id list with compare-and-swap, retrying on
// a concurrent change.
func editIndex(edit func([]string) []string) error {
	for range 16 {
		ids, old, err := index()
		if err != nil {
			return err
		}
		next, err := json.Marshal(edit(ids))
		if err != nil {
			return err
		}
		swapped, err := plugin.KVCompareAndSwap(indexKey, old, next, 0) // nil old: create
		if err != nil || swapped {
			return err
		}
	}
	return errors.New("todo: the index kept changing; retry")
}

func main() {}
