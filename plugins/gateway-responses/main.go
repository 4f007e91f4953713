// Command gateway-responses is a gateway plugin that customises error
// responses per API, like AWS API Gateway "gateway responses": for a status
// (e.g. "404"), a class ("4xx", "5xx") or "default", it sets the status,
// headers and a body template.
//
//	plugin "responses" {
//	  source = "gateway-responses.wasm"
//	  config = {
//	    responses = {
//	      "401" = { headers = { "WWW-Authenticate" = "Bearer" } }
//	      "5xx" = { status = 503, body = "{\"error\":\"${message}\",\"id\":\"${requestId}\"}" }
//	    }
//	  }
//	}
//
// Put it in the global pipeline so it sees every route's responses.
package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Response customises one status, class or the default.
type Response struct {
	// Status replaces the status; 0 keeps it.
	Status int `json:"status"`
	// Headers are set on the response.
	Headers map[string]string `json:"headers"`
	// Body replaces the body; ${message}, ${requestId}, ${status} and
	// ${path} are substituted (message and requestId JSON-escaped without
	// quotes). Empty keeps the body.
	Body string `json:"body"`
	// ContentType is set when Body is; default application/json.
	ContentType string `json:"content_type"`
}

// Config is the plugin's config block.
type Config struct {
	// Responses maps "404", "4xx", "5xx" or "default" (any status >= 400)
	// to a customisation. An exact status wins over its class, the class
	// over default.
	Responses map[string]Response `json:"responses"`
}

// cfg is set once per instance by OnConfigure; an instance is single-threaded.
var cfg Config

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if len(c.Responses) == 0 {
		return errors.New("responses is empty; add e.g. \"404\" = { body = ... }")
	}
	for k, r := range c.Responses {
		switch k {
		case "4xx", "5xx", "default":
		default:
			n, err := strconv.Atoi(k)
			if err != nil || n < 400 || n > 599 {
				return errors.New("responses: key " + strconv.Quote(k) + " is not an error status (400-599), \"4xx\", \"5xx\" or \"default\"")
			}
		}
		if r.Status != 0 && (r.Status < 100 || r.Status > 599) {
			return errors.New("responses." + k + ".status " + strconv.Itoa(r.Status) + " is not an HTTP status")
		}
	}
	cfg = c
	return nil
}

// find returns the customisation for status.
func find(status int) (Response, bool) {
	if status < 400 {
		return Response{}, false
	}
	if r, ok := cfg.Responses[strconv.Itoa(status)]; ok {
		return r, true
	}
	if r, ok := cfg.Responses[strconv.Itoa(status/100)+"xx"]; ok {
		return r, true
	}
	r, ok := cfg.Responses["default"]
	return r, ok
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func onResponseHeaders(_ plugin.Request, resp plugin.Response) plugin.Action {
	r, ok := find(resp.Status())
	if !ok {
		return plugin.Continue
	}
	h := resp.Header()
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	return plugin.Continue
}

func onResponseBody(req plugin.Request, resp plugin.Response) plugin.Action {
	status := resp.Status()
	r, ok := find(status)
	if !ok {
		return plugin.Continue
	}
	if r.Body != "" {
		old, _ := resp.BodyView()
		var orig struct {
			Message   string `json:"message"`
			RequestID string `json:"requestId"`
		}
		_ = json.Unmarshal(old, &orig)
		id := orig.RequestID
		if id == "" {
			id = req.ID()
		}
		body := strings.NewReplacer(
			"${message}", jsonEscape(orig.Message),
			"${requestId}", jsonEscape(id),
			"${status}", strconv.Itoa(status),
			"${path}", jsonEscape(req.Path()),
		).Replace(r.Body)
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		resp.Header().Set("Content-Type", ct)
		if err := resp.SetBody([]byte(body)); err != nil {
			plugin.LogError("gateway-responses: set body: " + err.Error())
		}
	}
	if r.Status != 0 {
		resp.SetStatus(r.Status)
	}
	return plugin.Continue
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:       configure,
		OnResponseHeaders: onResponseHeaders,
		OnResponseBody:    onResponseBody,
	})
}

func main() {}
