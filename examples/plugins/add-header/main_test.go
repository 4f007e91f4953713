package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

func TestAddHeader(t *testing.T) {
	h := plugintest.New(t, `{"request":{"X-Gateway":"wasmgate"},"response":{"X-Frame-Options":"DENY"}}`)
	res := h.Do(&plugintest.Request{Path: "/users"})
	assert.True(t, res.UpstreamCalled)
	assert.Equal(t, "wasmgate", res.Request.Header.Get("X-Gateway"))
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
}

func TestAddHeaderConfig(t *testing.T) {
	tests := []struct {
		name, in, expErr string
	}{
		{name: "empty", in: `{}`, expErr: "set at least one header in request or response"},
		{name: "unknown field", in: `{"requests":{}}`, expErr: `decode config: json: unknown field "requests"`},
		{name: "ok", in: `{"request":{"A":"1"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugintest.NewUnconfigured(t, tc.in).Configure()
			if tc.expErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.expErr)
		})
	}
}
