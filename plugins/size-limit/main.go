// Command size-limit is a gateway plugin that caps the request body size and
// restricts the request content type of a route.
//
//	plugin "small_json" {
//	  source = "size-limit.wasm"
//	  config = {
//	    max_bytes     = 65536
//	    content_types = ["application/json"]
//	  }
//	}
//
// A declared Content-Length over max_bytes is refused before the body is read
// (413); a chunked body is measured once buffered. A content type outside the
// allowlist gets 415. Bodies are AWS-style {"message": ...}.
package main

import (
	"errors"
	"mime"
	"strconv"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// MaxBytes caps the request body; 0 means no cap.
	MaxBytes int64 `json:"max_bytes"`
	// ContentTypes is the allowlist of media types (parameters ignored);
	// empty allows any. Requests without a body are not checked.
	ContentTypes []string `json:"content_types"`
}

type limits struct {
	max   int64
	types map[string]bool
}

// lim is set once per instance by OnConfigure; an instance is single-threaded.
var lim limits

func configure(raw []byte) error {
	var cfg Config
	if err := plugin.DecodeConfig(raw, &cfg); err != nil {
		return err
	}
	if cfg.MaxBytes < 0 {
		return errors.New("max_bytes must not be negative; use 0 for no cap")
	}
	l := limits{max: cfg.MaxBytes}
	for _, ct := range cfg.ContentTypes {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return errors.New("content_types: " + strconv.Quote(ct) + ": " + err.Error())
		}
		if l.types == nil {
			l.types = map[string]bool{}
		}
		l.types[mt] = true
	}
	if l.max == 0 && l.types == nil {
		return errors.New("nothing to limit; set max_bytes or content_types")
	}
	lim = l
	return nil
}

func tooLarge() plugin.Action { return plugin.RespondJSON(413, "Request Entity Too Large") }

// hasBody reports whether the request declares a body.
func hasBody(h plugin.Header) bool {
	if cl, ok := h.Lookup("Content-Length"); ok {
		n, err := strconv.ParseInt(cl, 10, 64)
		return err != nil || n > 0
	}
	_, chunked := h.Lookup("Transfer-Encoding")
	return chunked
}

func onRequestHeaders(req plugin.Request) plugin.Action {
	h := req.Header()
	if lim.max > 0 {
		if cl, ok := h.Lookup("Content-Length"); ok {
			if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > lim.max {
				return tooLarge()
			}
		}
	}
	if lim.types != nil {
		ct, ok := h.Lookup("Content-Type")
		if !ok && !hasBody(h) {
			return plugin.Continue
		}
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !lim.types[mt] {
			return plugin.RespondJSON(415, "Unsupported Media Type")
		}
	}
	return plugin.Continue
}

func onRequestBody(req plugin.Request) plugin.Action {
	if lim.max == 0 {
		return plugin.Continue
	}
	b, err := req.BodyView()
	if errors.Is(err, plugin.ErrTooLarge) {
		return tooLarge()
	}
	if err != nil {
		plugin.LogError("read request body: " + err.Error())
		return plugin.RespondJSON(500, "Internal server error")
	}
	if int64(len(b)) > lim.max {
		return tooLarge()
	}
	return plugin.Continue
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:      configure,
		OnRequestHeaders: onRequestHeaders,
		OnRequestBody:    onRequestBody,
	})
}

func main() {}
