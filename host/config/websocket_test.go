package config

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadWebSocketAPIs(t *testing.T) {
	g, diags := Load("testdata/websocket/valid.hcl")
	require.False(t, diags.HasErrors(), diagLines(diags))
	require.Len(t, g.WebSocketAPIs, 2)

	a := g.WebSocketAPIs[0]
	assert.Equal(t, "chat", a.Name)
	assert.Equal(t, "/chat", a.Path)
	assert.Equal(t, "ws.example.com", a.Host)
	assert.Equal(t, "prod", a.Stage)
	assert.Equal(t, []string{"meta", "kind"}, a.Selection)
	assert.Equal(t, []string{"app.example.com"}, a.AllowedOrigins)
	assert.Equal(t, 16<<10, a.MaxFrameBytes)
	assert.Equal(t, 64<<10, a.MaxMessageBytes)
	assert.Equal(t, time.Minute, a.IdleTimeout)
	assert.Equal(t, 30*time.Minute, a.MaxDuration)
	require.Len(t, a.Pipeline, 1)
	assert.Equal(t, []string{"$connect", "sendMessage"}, a.RouteKeys)
	assert.Same(t, g.FunctionByName["chat"], a.Routes["$connect"].Function)
	assert.Equal(t, DefaultWebSocketTimeout, a.Routes["$connect"].Timeout)
	send := a.Routes["sendMessage"]
	assert.Same(t, g.UpstreamByName["back"], send.Upstream)
	assert.Equal(t, "/messages", send.UpstreamPath)
	assert.Equal(t, 5*time.Second, send.Timeout)
	assert.True(t, send.TwoWay)
	assert.Same(t, g.RateLimitByName["slow"], send.RateLimit)

	d := g.WebSocketAPIs[1]
	assert.Equal(t, "$default", d.Stage)
	assert.Equal(t, []string{"action"}, d.Selection)
	assert.Equal(t, DefaultWebSocketFrameSize, d.MaxFrameBytes)
	assert.Equal(t, DefaultWebSocketMessageSize, d.MaxMessageBytes)
	assert.Equal(t, DefaultWebSocketIdleTimeout, d.IdleTimeout)
	assert.Equal(t, DefaultWebSocketMaxDuration, d.MaxDuration)
	assert.Equal(t, "/", d.Routes["$default"].UpstreamPath)

	// Each API's handshake is a GET route of the route table, and routes
	// without a websocket block get the default tunnel limits.
	byKey := map[string]*Route{}
	for _, r := range g.Routes {
		byKey[r.Key+" "+r.Host] = r
	}
	hs := byKey["GET /chat ws.example.com"]
	require.NotNil(t, hs)
	assert.Same(t, a, hs.WebSocketAPI)
	assert.Equal(t, a.Pipeline, hs.Pipeline)
	require.NotNil(t, hs.Compression)
	assert.False(t, *hs.Compression)
	assert.Same(t, d, byKey["GET /ws "].WebSocketAPI)
	assert.Equal(t, Tunnel{IdleTimeout: 30 * time.Second, MaxDuration: time.Hour}, byKey["GET /live "].Tunnel)
	assert.Equal(t, DefaultTunnel, byKey["GET /plain "].Tunnel)

	out, err := g.RedactedJSON()
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(out, &doc))
	for ptr, exp := range map[string]any{
		"/websocket_apis/0/route_selection":     "$request.body.meta.kind",
		"/websocket_apis/0/routes/1/upstream":   "back",
		"/websocket_apis/0/routes/1/rate_limit": "slow",
		"/websocket_apis/0/routes/0/function":   "chat",
		"/websocket_apis/1/idle_timeout":        "10m0s",
		"/websocket_apis/1/max_message_size":    float64(128 << 10),
	} {
		assert.Equal(t, exp, lookup(t, doc, ptr), ptr)
	}
}

func TestLoadWebSocketErrors(t *testing.T) {
	_, diags := Load("testdata/websocket/invalid.hcl")
	got := diagLines(diags)
	golden := "testdata/websocket/invalid.golden"
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	exp, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(exp), got)
}

func TestParseRouteSelection(t *testing.T) {
	tests := []struct {
		expr string
		want []string
		ok   bool
	}{
		{"$request.body.action", []string{"action"}, true},
		{"$request.body.meta.type", []string{"meta", "type"}, true},
		{"$request.body.", nil, false},
		{"$request.body.a..b", nil, false},
		{"$request.header.x", nil, false},
		{"action", nil, false},
		{"$request.body.a b", nil, false},
	}
	for _, tt := range tests {
		got, err := ParseRouteSelection(tt.expr)
		if !tt.ok {
			assert.Error(t, err, tt.expr)
			continue
		}
		require.NoError(t, err, tt.expr)
		assert.Equal(t, tt.want, got, tt.expr)
	}
}
