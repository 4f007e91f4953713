package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadFunctions(t *testing.T) {
	setTestEnv(t)
	g, diags := Load("testdata/function/valid.hcl")
	require.False(t, diags.HasErrors(), diagLines(diags))
	require.Len(t, g.Functions, 2)

	src, err := filepath.Abs("testdata/plugins/auth.wasm")
	require.NoError(t, err)
	f := g.FunctionByName["orders"]
	require.NotNil(t, f)
	assert.Equal(t, src, f.Source)
	assert.JSONEq(t, `{"table":"orders","token":"`+testSecret+`"}`, string(f.ConfigJSON))
	assert.Equal(t, []string{"/token"}, f.Sensitive)
	assert.Equal(t, map[string]string{"TABLE": "orders"}, f.Env)
	assert.Equal(t, 4, f.Concurrency)
	assert.Equal(t, 250*time.Millisecond, f.QueueTimeout)
	assert.Equal(t, 2, f.MinWarm)
	assert.Equal(t, 90*time.Second, f.IdleTimeout)
	assert.True(t, f.SoftTimeout)
	assert.Equal(t, uint64(16<<20), f.MemoryBytes)
	assert.Equal(t, time.Second, f.Timeout)

	d := g.FunctionByName["defaults"]
	assert.Equal(t, &Function{
		Name: "defaults", Source: d.Source, ConfigJSON: []byte("{}"), Sensitive: []string{}, Env: map[string]string{},
		MemoryBytes: DefaultFunctionMemory, Timeout: DefaultFunctionTimeout, QueueTimeout: DefaultFunctionQueueTimeout,
		MinWarm: DefaultFunctionMinWarm, IdleTimeout: DefaultFunctionIdleTimeout, Range: d.Range,
	}, d)

	byKey := map[string]*Route{}
	for _, r := range g.Routes {
		byKey[r.Key] = r
	}
	assert.Same(t, f, byKey["POST /shop/orders"].Function)
	assert.Same(t, d, byKey["GET /hello"].Function)
	assert.Nil(t, byKey["GET /hello"].Upstream)
	assert.Nil(t, byKey["GET /hello"].Mock)
}

func TestFunctionRedactedJSON(t *testing.T) {
	setTestEnv(t)
	g, diags := Load("testdata/function/valid.hcl")
	require.False(t, diags.HasErrors(), diagLines(diags))
	out, err := g.RedactedJSON()
	require.NoError(t, err)
	assert.NotContains(t, string(out), testSecret)
	var doc any
	require.NoError(t, json.Unmarshal(out, &doc))
	for ptr, exp := range map[string]any{
		"/functions/0/config/token":   Redacted,
		"/functions/0/config/table":   "orders",
		"/functions/0/env/TABLE":      "orders",
		"/functions/0/strict_timeout": false,
		"/functions/0/queue_timeout":  "250ms",
		"/functions/0/idle_timeout":   "1m30s",
		"/functions/1/idle_timeout":   "5m0s",
		"/functions/1/strict_timeout": true,
		"/routes/0/function":          "orders",
		"/routes/1/function":          "defaults",
	} {
		assert.Equal(t, exp, lookup(t, doc, ptr), ptr)
	}
}

func TestLoadFunctionErrors(t *testing.T) {
	_, diags := Load("testdata/function/invalid.hcl")
	got := diagLines(diags)
	golden := "testdata/function/invalid.golden"
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	exp, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(exp), got)
}
