package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
)

// noopDir is the host's no-op Go test plugin, the baseline.
const noopDir = "../../host/wasm/testdata/plugins/noop"

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// body2K is a valid order of about 2 KiB.
func body2K() []byte {
	var tags []string
	for i := 0; len(strings.Join(tags, ",")) < 1900; i++ {
		tags = append(tags, fmt.Sprintf("%q", fmt.Sprintf("tag-%04d", i)))
	}
	return []byte(`{"item":"book","quantity":3,"note":"gift","tags":[` + strings.Join(tags, ",") + `]}`)
}

func benchChain(b *testing.B, plugins ...*config.Plugin) {
	g := newGateway(b, plugins...)
	body := body2K()
	w := &discardWriter{h: http.Header{}}
	in := &pipeline.Request{RouteKey: "POST /orders/{id}", Params: []pipeline.Param{{Name: "id", Value: "7"}}, RequestID: "r"}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/orders/7", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		clear(w.h)
		g.Chain.Handle(w, r, in, echo)
	}
}

// BenchmarkValidateTransform2K is a 2 KiB JSON body through request-validator
// and transform against the no-op plugin, in the same run.
func BenchmarkValidateTransform2K(b *testing.B) {
	b.Run("noop", func(b *testing.B) { benchChain(b, pluginCfg(b, "p", noopDir, "")) })
	b.Run("validate", func(b *testing.B) { benchChain(b, pluginCfg(b, "v", ".", validatorCfg(b))) })
	b.Run("validate+transform", func(b *testing.B) {
		benchChain(b, pluginCfg(b, "v", ".", validatorCfg(b)), pluginCfg(b, "t", "../transform", transformCfg))
	})
}

// BenchmarkTransform2K separates transform's costs: a template that does not
// read the body (no JSON decoding) and one that does.
func BenchmarkTransform2K(b *testing.B) {
	b.Run("no-body-read", func(b *testing.B) {
		benchChain(b, pluginCfg(b, "t", "../transform", `{"request":{"body":{"id":"$path.id"}}}`))
	})
	b.Run("body-read", func(b *testing.B) { benchChain(b, pluginCfg(b, "t", "../transform", transformCfg)) })
}
