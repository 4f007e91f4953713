// Command conformance-go is the conformance plugin in Go: the behaviours of
// plugins/conformance/README.md, written with sdk/go/plugin.
package main

import (
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

const lang = "go"

// config and requests are set once per instance by OnConfigure; an instance
// is single-threaded.
var (
	config   []byte
	requests plugin.Metric
)

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: func(raw []byte) error {
			config = append([]byte(nil), raw...)
			var err error
			requests, err = plugin.NewCounter("conformance_requests_total", "Requests seen by the conformance plugin.")
			return err
		},
		OnRequestHeaders: func(req plugin.Request) plugin.Action {
			plugin.LogInfo("conformance request from " + lang)
			requests.Add(1)
			h := req.Header()
			switch req.Path() {
			case "/private":
				if _, ok := h.Lookup("Authorization"); !ok {
					return plugin.Respond(401, []byte("unauthorized"))
				}
			case "/old":
				req.SetPath("/new")
			case "/digest":
				digests(h)
			}
			h.Set("X-Conf-Config", string(config))
			h.Add("X-Conf-Lang", lang)
			h.Del("X-Conf-Remove")
			visits, _, _ := plugin.KVGet("visits")
			visits = append(visits, 'x')
			if plugin.KVSet("visits", visits, 0) == nil {
				h.Set("X-Conf-Visits", string(visits))
			}
			return plugin.Continue
		},
		OnRequestBody: func(req plugin.Request) plugin.Action {
			body, err := req.Body()
			if err == nil && len(body) > 0 {
				_ = req.SetBody(append(append([]byte("["), body...), ']'))
			}
			return plugin.Continue
		},
		OnResponseHeaders: func(_ plugin.Request, resp plugin.Response) plugin.Action {
			resp.Header().Set("X-Conf-Resp", lang)
			resp.Header().Del("X-Upstream-Secret")
			return plugin.Continue
		},
	})
}

// digests sets request headers to the host's SHA-256, HMAC-SHA256 and
// HMAC-SHA512, and the result of a plain digest given a key.
func digests(h plugin.Header) {
	sum := plugin.SHA256([]byte("abc"))
	h.Set("X-Conf-SHA256", hex.EncodeToString(sum[:]))
	mac := plugin.HMACSHA256([]byte("key"), []byte("data"))
	h.Set("X-Conf-HMAC-SHA256", hex.EncodeToString(mac[:]))
	if mac, err := plugin.Digest(abi.DigestHMACSHA512, []byte("key"), []byte("data")); err == nil {
		h.Set("X-Conf-HMAC-SHA512", hex.EncodeToString(mac))
	}
	invalid := "ok"
	if _, err := plugin.Digest(abi.DigestSHA256, []byte("key"), []byte("abc")); errors.Is(err, plugin.ErrInvalid) {
		invalid = strconv.Itoa(int(abi.ResultInvalid))
	} else if err != nil {
		invalid = err.Error()
	}
	h.Set("X-Conf-Digest-Invalid", invalid)
}

func main() {}
