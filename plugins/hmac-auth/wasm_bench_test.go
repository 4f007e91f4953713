package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/gateway/host/pipeline"
)

// noopDir is the host's no-op Go test plugin, the baseline.
const noopDir = "../../host/wasm/testdata/plugins/noop"

// discardWriter is a ResponseWriter that allocates nothing per request.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkHMACAuth is one signed POST with a 1 KiB body through the plugin
// against the no-op plugin. Replay protection is off so that one signed
// request can be sent repeatedly; "replay-on" signs a fresh request per
// iteration (signing cost included, on the client side of the benchmark).
func BenchmarkHMACAuth(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	noReplay := `{"keys":{"AKEXAMPLE":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},"replay_protection":false}`
	run := func(b *testing.B, dir, cfg string, fresh bool) {
		g := newGateway(b, dir, cfg)
		w := &discardWriter{h: http.Header{}}
		r := httptest.NewRequest("POST", "http://api.example.com/v1/items?a=1", nil)
		SignRequest(r, body, testKey, testSecret, testScope, time.Now(), false)
		rd := bytes.NewReader(body)
		b.ReportAllocs()
		b.ResetTimer()
		i := 0
		for b.Loop() {
			if fresh {
				i++
				r.URL.RawQuery = "a=" + string(rune('a'+i%26)) + time.Duration(i).String()
				SignRequest(r, body, testKey, testSecret, testScope, time.Now(), false)
			}
			clear(w.h)
			rd.Reset(body)
			r.Body = readCloser{rd}
			g.Chain.Handle(w, r, &pipeline.Request{}, upstream)
		}
	}
	b.Run("noop", func(b *testing.B) { run(b, noopDir, "", false) })
	b.Run("replay-off", func(b *testing.B) { run(b, ".", noReplay, false) })
	b.Run("replay-on", func(b *testing.B) { run(b, ".", testCfg, true) })
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
