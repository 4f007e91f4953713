package main

import (
	"net/http"
	"testing"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

// BenchmarkNative is the validator's Go cost without wazero.
func BenchmarkNative(b *testing.B) {
	h := plugintest.New(b, validatorCfg(b))
	body := body2K()
	hd := http.Header{"Content-Type": {"application/json"}}
	b.ReportAllocs()
	for b.Loop() {
		h.Do(&plugintest.Request{Method: "POST", Header: hd, Body: body, Params: map[string]string{"id": "7"}})
	}
}
