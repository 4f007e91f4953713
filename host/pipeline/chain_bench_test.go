package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wasmgate/gateway/host/config"
)

// nopPlugin is a plugin whose phases do nothing, to measure the pipeline alone.
type nopPlugin struct{ in nopInstance }

type nopInstance struct{}

func (p *nopPlugin) Name() string                                         { return "nop" }
func (p *nopPlugin) OnError() config.OnError                              { return config.OnErrorDeny }
func (p *nopPlugin) Phases() Phase                                        { return PhaseRequestHeaders | PhaseResponseHeaders | PhaseLog }
func (p *nopPlugin) Acquire(context.Context) (Instance, error)            { return &p.in, nil }
func (nopInstance) Run(context.Context, Phase, *Exchange) (Action, error) { return ActionContinue, nil }
func (nopInstance) Release(context.Context)                               {}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkChain3 is a 3-plugin chain around a trivial handler, pipeline cost only.
func BenchmarkChain3(b *testing.B) {
	c := New([]Plugin{&nopPlugin{}, &nopPlugin{}, &nopPlugin{}}, Options{})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(200)
	})
	r := httptest.NewRequest("GET", "/", nil)
	w := &discard{h: http.Header{}}
	in := &Request{}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		c.Handle(w, r, in, next)
	}
}
