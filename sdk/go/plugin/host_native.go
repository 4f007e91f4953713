//go:build !wasip1

package plugin

import "github.com/wasmgate/gateway/sdk/go/internal/hostapi"

// host returns the fake host plugintest installed.
func host() hostapi.Host {
	h := hostapi.Current()
	if h == nil {
		panic("plugin: no gateway host in a native build; run the plugin through sdk/go/plugintest, or build it with GOOS=wasip1 GOARCH=wasm")
	}
	return h
}

// bodyView is Body natively: the fake host's copy.
func bodyView(response bool) ([]byte, int32) {
	if response {
		return host().ResponseBody()
	}
	return host().RequestBody()
}
