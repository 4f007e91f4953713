// Command kitchen is a test plugin exercising every host function. The
// request header X-Op selects a behaviour; results come back in headers.
package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

type config struct {
	Reject string `json:"reject"`
	Tag    string `json:"tag"`
}

var (
	cfg                       config
	requests, inflight, sizes plugin.Metric
	hog                       [][]byte
)

func configure(raw []byte) error {
	cfg = config{}
	if err := plugin.DecodeConfig(raw, &cfg); err != nil {
		return err
	}
	if cfg.Reject != "" {
		return errors.New(cfg.Reject)
	}
	var err error
	if requests, err = plugin.NewCounter("kitchen_requests_total", "Requests seen."); err != nil {
		return err
	}
	if inflight, err = plugin.NewGauge("kitchen_last_status", "Last status."); err != nil {
		return err
	}
	if sizes, err = plugin.NewHistogram("kitchen_body_bytes", "Body sizes."); err != nil {
		return err
	}
	if _, err := plugin.NewCounter("bad name!", ""); err == nil {
		return errors.New("invalid metric name accepted")
	}
	return nil
}

func op(req plugin.Request) string { return req.Header().Get("X-Op") }

func onRequestHeaders(req plugin.Request) plugin.Action {
	requests.Add(1)
	h := req.Header()
	h.Set("X-Tag", cfg.Tag)
	h.Set("X-Seen-Method", req.Method())
	h.Set("X-Seen-Path", req.Path())
	h.Set("X-Seen-Query", req.Query())
	h.Set("X-Seen-Route", req.RouteKey())
	id, _ := req.Param("id")
	h.Set("X-Seen-Param", id)
	if _, ok := req.Param("missing"); ok {
		h.Set("X-Seen-Missing-Param", "present")
	}
	h.Set("X-Seen-Client", req.ClientIP())
	h.Set("X-Seen-Request-Id", req.ID())
	tls := req.TLS()
	h.Set("X-Seen-Tls", tls.Version+"|"+tls.ServerName)
	h.Set("X-Seen-Multi", strings.Join(h.Values("X-Multi"), ","))
	if _, ok := h.Lookup("X-Absent"); ok {
		h.Set("X-Seen-Absent", "present")
	}
	h.Set("X-Seen-Host", h.Get("Host"))
	h.Set("X-Seen-Host-Values", strings.Join(h.Values("Host"), ","))
	names := h.Names()
	h.Set("X-Seen-Names", strconv.Itoa(len(names)))
	if p, ok := req.Property("auth.principal"); ok {
		h.Set("X-Principal", p)
	}
	req.SetProperty("kitchen.seen", "yes")
	if _, err := req.Body(); !errors.Is(err, plugin.ErrWrongPhase) {
		h.Set("X-Body-Phase-Error", "missing")
	}

	switch op(req) {
	case "respond":
		plugin.Response{}.Header().Set("X-Short", "1")
		return plugin.Respond(418, []byte("short"))
	case "unauthorized":
		return plugin.Unauthorized()
	case "rewrite":
		req.SetMethod("POST")
		req.SetPath("/rewritten/a%2Fb")
		req.SetQuery("a=1")
		h.Del("X-Remove")
		h.Add("X-Added", "a")
		h.Add("X-Added", "b")
		h.Set("Host", "rewritten.example")
	case "long":
		h.Set("X-Long", strings.Repeat("x", 5000))
		h.Set("X-Long-Back", strconv.Itoa(len(h.Get("X-Long"))))
	case "kv":
		ok1, err1 := plugin.KVCompareAndSwap("lock", nil, []byte("v1"), 0)
		ok2, _ := plugin.KVCompareAndSwap("lock", nil, []byte("v2"), 0)
		ok3, _ := plugin.KVCompareAndSwap("lock", []byte("v1"), []byte("v3"), time.Minute)
		v, found, _ := plugin.KVGet("lock")
		_ = plugin.KVSet("other", []byte("x"), 0)
		_ = plugin.KVDelete("other")
		_, otherFound, _ := plugin.KVGet("other")
		h.Set("X-KV", strings.Join([]string{strconv.FormatBool(ok1), strconv.FormatBool(ok2), strconv.FormatBool(ok3), string(v), strconv.FormatBool(found), strconv.FormatBool(otherFound), errString(err1)}, ","))
	case "http":
		resp, err := plugin.HTTPCall(plugin.HTTPRequest{Upstream: "backend", Method: "POST", Path: "/called?x=1", Header: map[string]string{"X-From": "kitchen"}, Body: []byte("ping"), Timeout: time.Second})
		h.Set("X-Call", strconv.Itoa(resp.Status)+"|"+string(resp.Body)+"|"+resp.Header("X-Upstream")+"|"+errString(err))
		_, err = plugin.HTTPCall(plugin.HTTPRequest{Upstream: "undeclared", Path: "/"})
		h.Set("X-Call-Denied", errString(err))
	case "misc":
		var b [16]byte
		plugin.Random(b[:])
		h.Set("X-Random-Nonzero", strconv.FormatBool(!bytes.Equal(b[:], make([]byte, 16))))
		h.Set("X-Year", strconv.Itoa(plugin.Now().Year()))
		h.Set("X-Wall-Year", strconv.Itoa(time.Now().Year()))
		h.Set("X-Features", strconv.FormatUint(plugin.Features(), 10))
	case "digest":
		sum := plugin.SHA256([]byte("abc"))
		mac := plugin.HMACSHA256([]byte("key"), []byte("data"))
		d384, _ := plugin.Digest(abi.DigestSHA384, nil, []byte("abc"))
		m512, _ := plugin.Digest(abi.DigestHMACSHA512, []byte("key"), []byte("data"))
		_, errUnknown := plugin.Digest(99, nil, nil)
		_, errKey := plugin.Digest(abi.DigestSHA256, []byte("key"), nil)
		h.Set("X-Digest", hex.EncodeToString(sum[:])+","+hex.EncodeToString(mac[:])+","+hex.EncodeToString(d384)+","+hex.EncodeToString(m512))
		h.Set("X-Digest-Errors", strconv.FormatBool(errors.Is(errUnknown, plugin.ErrInvalid))+","+strconv.FormatBool(errors.Is(errKey, plugin.ErrInvalid)))
	case "log":
		plugin.LogInfo("hello from kitchen")
	case "panic":
		panic("kitchen: boom")
	case "loop":
		for {
		}
	case "oom":
		for {
			hog = append(hog, make([]byte, 1<<20))
		}
	case "badheader":
		h.Set("X-Bad", "a\r\nb")
	}
	return plugin.Continue
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func onRequestBody(req plugin.Request) plugin.Action {
	if op(req) == "bodyview" {
		return bodyView(req)
	}
	if op(req) != "body" {
		return plugin.Continue
	}
	b, err := req.Body()
	if err != nil {
		return plugin.RespondJSON(500, err.Error())
	}
	sizes.Observe(float64(len(b)))
	if string(b) == "deny" {
		return plugin.RespondJSON(400, "denied body")
	}
	_ = req.SetBody(bytes.ToUpper(b))
	return plugin.Continue
}

func onResponseHeaders(req plugin.Request, resp plugin.Response) plugin.Action {
	resp.Header().Set("X-Resp-Status", strconv.Itoa(resp.Status()))
	if p, ok := req.Property("kitchen.seen"); ok {
		resp.Header().Set("X-Resp-Property", p)
	}
	switch op(req) {
	case "status":
		resp.SetStatus(201)
	case "resp-respond":
		return plugin.Respond(503, []byte("replaced"))
	}
	return plugin.Continue
}

// bodyView checks that a body view survives other host reads (they use the
// SDK's other buffer) and equals Body's copy, then rewrites the body from it.
func bodyView(req plugin.Request) plugin.Action {
	v, err := req.BodyView()
	if err != nil {
		return plugin.RespondJSON(500, err.Error())
	}
	snapshot := bytes.Clone(v)
	opName := req.Header().Get("X-Op")
	id, _ := req.Param("id")
	if !bytes.Equal(v, snapshot) {
		return plugin.RespondJSON(500, "the body view changed")
	}
	if c, _ := req.Body(); !bytes.Equal(v, c) {
		return plugin.RespondJSON(500, "the body view is not the body")
	}
	_ = req.SetBody(append([]byte("view:"+id+":"+opName+":"), v...))
	return plugin.Continue
}

func onResponseBody(req plugin.Request, resp plugin.Response) plugin.Action {
	if op(req) == "respbodyview" {
		v, _ := resp.BodyView()
		_ = resp.SetBody(append([]byte("viewed:"), v...))
		return plugin.Continue
	}
	if op(req) != "respbody" {
		return plugin.Continue
	}
	b, _ := resp.Body()
	_ = resp.SetBody(append([]byte("wrapped:"), b...))
	return plugin.Continue
}

func onLog(req plugin.Request, resp plugin.Response) {
	inflight.Set(float64(resp.Status()))
	if op(req) == "log" {
		plugin.LogInfo("final status " + strconv.Itoa(resp.Status()))
	}
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:       configure,
		OnRequestHeaders:  onRequestHeaders,
		OnRequestBody:     onRequestBody,
		OnResponseHeaders: onResponseHeaders,
		OnResponseBody:    onResponseBody,
		OnLog:             onLog,
	})
}

func main() {}
