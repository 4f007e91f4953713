package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// noopDir is the host's no-op Go test plugin, the baseline.
const noopDir = "../../host/wasm/testdata/plugins/noop"

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchPlugin(b *testing.B, dir, cfg, clientIP string) {
	g := wasmtest.New(b, wasm.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, upstream,
		&config.Plugin{Name: "p", Source: wasmtest.Build(b, dir), ConfigJSON: []byte(cfg), Timeout: time.Second, PoolSize: 4})
	r := httptest.NewRequest("GET", "/", nil)
	w := &discardWriter{h: http.Header{}}
	in := &pipeline.Request{ClientIP: clientIP}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		g.Chain.Handle(w, r, in, upstream)
	}
}

// BenchmarkIPRestriction is one request through the plugin with 1000
// prefixes per list, against the no-op plugin.
func BenchmarkIPRestriction(b *testing.B) {
	var allow, deny []string
	for i := range 1000 {
		allow = append(allow, fmt.Sprintf(`"10.%d.%d.0/24"`, i/256, i%256))
		deny = append(deny, fmt.Sprintf(`"2001:db8:%x::/48"`, i))
	}
	cfg := `{"allow":[` + strings.Join(allow, ",") + `],"deny":[` + strings.Join(deny, ",") + `]}`
	b.Run("noop", func(b *testing.B) { benchPlugin(b, noopDir, "", "10.1.2.3") })
	b.Run("allowed", func(b *testing.B) { benchPlugin(b, ".", cfg, "10.1.2.3") })
	b.Run("denied", func(b *testing.B) { benchPlugin(b, ".", cfg, "192.0.2.1") })
}
