package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// upstream answers with the status in ?status= and a JSON body echoing what
// it received.
var upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Server", "up")
	status := http.StatusOK
	if r.URL.Query().Get("status") == "404" {
		status = http.StatusNotFound
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"path":"` + r.URL.Path + `","got":` + string(b) + `}`))
})

// TestThroughRealHost runs request and response rewriting in wazero.
func TestThroughRealHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins to wasm; skipped with -short")
	}
	cfg := `{
		"request": {"path": "/v2/{id}", "headers": {"remove": ["Cookie"]}, "body": {"u": "$.body.name | upper", "id": "$path.id | int"}},
		"response": {"headers": {"remove": ["Server"]}, "status": [{"from": [404], "to": 200}], "body": {"data": "$.body.got", "path": "$.body.path", "was": "$context.status | int"}}
	}`
	g := wasmtest.New(t, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, upstream,
		&config.Plugin{Name: "transform", Source: wasmtest.Build(t, "."), ConfigJSON: []byte(cfg), Timeout: 2 * time.Second, PoolSize: 2})
	info := func() *pipeline.Request {
		return &pipeline.Request{RouteKey: "POST /u/{id}", Params: []pipeline.Param{{Name: "id", Value: "5"}}, RequestID: "rid"}
	}
	tests := []struct {
		name, query, body string
		expStatus         int
		expBody           string
	}{
		{name: "ok", body: `{"name":"ann"}`, expStatus: 200, expBody: `{"data":{"u":"ANN","id":5},"path":"/v2/5","was":200}`},
		{name: "404 mapped to 200", query: "?status=404", body: `{"name":"bo"}`, expStatus: 200, expBody: `{"data":{"u":"BO","id":5},"path":"/v2/5","was":404}`},
		{name: "malformed request JSON", body: `{"name"`, expStatus: 400, expBody: `{"message":"Malformed JSON in request body"}`},
		{name: "upper leaves non-strings", body: `{"name":{"x":1}}`, expStatus: 200, expBody: `{"data":{"u":{"x":1},"id":5},"path":"/v2/5","was":200}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/u/5"+tc.query, strings.NewReader(tc.body))
			r.Header.Set("Cookie", "a=b")
			w := g.Do(r, info())
			assert.Equal(t, tc.expStatus, w.Code, w.Body.String())
			assert.JSONEq(t, tc.expBody, w.Body.String())
			assert.Empty(t, w.Header().Get("Server"))
		})
	}
}

// BenchmarkThroughRealHost runs BenchmarkBodyTemplate2K's templates in
// wazero, through the pipeline: what one request costs.
func BenchmarkThroughRealHost(b *testing.B) {
	if testing.Short() {
		b.Skip("builds plugins to wasm; skipped with -short")
	}
	body := body2K()
	for _, bc := range bodyTemplates {
		b.Run(bc.name, func(b *testing.B) {
			g := wasmtest.New(b, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, upstream,
				&config.Plugin{Name: "transform", Source: wasmtest.Build(b, "."), ConfigJSON: []byte(`{"request":{"body":` + bc.tmpl + `}}`), Timeout: 2 * time.Second, PoolSize: 2})
			in := &pipeline.Request{RouteKey: "POST /u/{id}", Params: []pipeline.Param{{Name: "id", Value: "5"}}, RequestID: "rid"}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				w := g.Do(httptest.NewRequest("POST", "/u/5", bytes.NewReader(body)), in)
				if w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
