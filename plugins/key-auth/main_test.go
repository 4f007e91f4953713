package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

const (
	acmeKey   = "ak_live_4f9a7c1e2b3d5f60718293a4b5c6d7e8"
	globexKey = "ak_live_0000000000000000000000000000ffff"
)

func hash(key string) string { s := sha256.Sum256([]byte(key)); return hex.EncodeToString(s[:]) }

func jsonOf(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func cfg(t *testing.T, extra map[string]any) string {
	c := map[string]any{
		"keys": []map[string]any{
			{"consumer": "acme", "key_sha256": hash(acmeKey), "metadata": map[string]string{"plan": "gold", "region": "eu"}},
			{"consumer": "globex", "key_sha256": strings.ToUpper(hash(globexKey))},
		},
		"metadata_headers": map[string]string{"plan": "X-Plan"},
	}
	for k, v := range extra {
		c[k] = v
	}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return string(b)
}

func TestKeyAuth(t *testing.T) {
	tests := []struct {
		name     string
		extra    map[string]any
		req      *plugintest.Request
		exp      int
		consumer string
		expLog   string
	}{
		{name: "x-api-key", req: &plugintest.Request{Header: http.Header{"X-Api-Key": {acmeKey}}}, exp: 200, consumer: "acme"},
		{name: "uppercase hash in config", req: &plugintest.Request{Header: http.Header{"X-Api-Key": {globexKey}}}, exp: 200, consumer: "globex"},
		{name: "missing", req: &plugintest.Request{}, exp: 401, expLog: "no API key in header X-Api-Key"},
		{name: "empty", req: &plugintest.Request{Header: http.Header{"X-Api-Key": {""}}}, exp: 401, expLog: "no API key"},
		{name: "wrong key", req: &plugintest.Request{Header: http.Header{"X-Api-Key": {"ak_live_guess"}}}, exp: 401, expLog: "unknown API key"},
		{name: "the hash itself is not a key", req: &plugintest.Request{Header: http.Header{"X-Api-Key": {hash(acmeKey)}}}, exp: 401, expLog: "unknown API key"},
		{name: "key with one character changed", req: &plugintest.Request{Header: http.Header{"X-Api-Key": {acmeKey[:len(acmeKey)-1] + "9"}}}, exp: 401, expLog: "unknown API key"},
		{name: "custom header", extra: map[string]any{"header": "Api-Token"}, req: &plugintest.Request{Header: http.Header{"Api-Token": {acmeKey}}}, exp: 200, consumer: "acme"},
		{name: "custom header ignores x-api-key", extra: map[string]any{"header": "Api-Token"}, req: &plugintest.Request{Header: http.Header{"X-Api-Key": {acmeKey}}}, exp: 401},
		{name: "query", extra: map[string]any{"query": "api_key"}, req: &plugintest.Request{Query: "a=1&api_key=" + acmeKey}, exp: 200, consumer: "acme"},
		{name: "query only", extra: map[string]any{"header": "", "query": "api_key"}, req: &plugintest.Request{Header: http.Header{"X-Api-Key": {acmeKey}}}, exp: 401, expLog: "no API key in query parameter api_key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, cfg(t, tc.extra))
			res := h.Do(tc.req)
			assert.Equal(t, tc.exp, res.Status)
			if tc.exp == 401 {
				assert.False(t, res.UpstreamCalled)
				assert.JSONEq(t, `{"message":"Unauthorized"}`, string(res.Body))
				require.NotEmpty(t, h.Logs)
				assert.Equal(t, abi.LogLevelWarn, h.Logs[0].Level)
				assert.Contains(t, h.Logs[0].Message, tc.expLog)
				assert.NotContains(t, h.Logs[0].Message, "ak_live", "the key is never logged")
				return
			}
			require.True(t, res.UpstreamCalled)
			assert.Equal(t, tc.consumer, res.Request.Properties["auth.principal"])
			assert.Equal(t, tc.consumer, res.Request.Properties["auth.consumer"])
			assert.Equal(t, tc.consumer, res.Request.Header.Get("X-Consumer"))
		})
	}
}

func TestForwarding(t *testing.T) {
	h := plugintest.New(t, cfg(t, map[string]any{"hide_credentials": true, "query": "api_key"}))
	req := &plugintest.Request{Query: "x=1", Header: http.Header{
		"X-Api-Key": {acmeKey}, "X-Consumer": {"forged"}, "X-Plan": {"platinum"},
	}}
	res := h.Do(req)
	require.True(t, res.UpstreamCalled)
	assert.Equal(t, []string{"acme"}, res.Request.Header.Values("X-Consumer"))
	assert.Equal(t, []string{"gold"}, res.Request.Header.Values("X-Plan"))
	assert.Empty(t, res.Request.Header.Get("X-Api-Key"), "hide_credentials removes the key")
	assert.Equal(t, map[string]string{
		"auth.principal": "acme", "auth.consumer": "acme", "auth.key_id": hash(acmeKey)[:8],
		"auth.metadata.plan": "gold", "auth.metadata.region": "eu",
	}, res.Request.Properties)

	// The key in the query is removed too; other parameters stay.
	res = h.Do(&plugintest.Request{Query: "x=1&api_key=" + acmeKey})
	require.True(t, res.UpstreamCalled)
	assert.Equal(t, "x=1", res.Request.Query)

	// Globex has no plan: a forged X-Plan is stripped, not passed through.
	res = h.Do(&plugintest.Request{Header: http.Header{"X-Api-Key": {globexKey}, "X-Plan": {"platinum"}}})
	require.True(t, res.UpstreamCalled)
	assert.Empty(t, res.Request.Header.Values("X-Plan"))
}

func TestConfig(t *testing.T) {
	good := hash(acmeKey)
	tests := []struct {
		name, in, expErr string
	}{
		{"no keys", `{}`, `keys: add at least one { consumer = "...", key_sha256 = "..." }; hash a key with: printf %s "$KEY" | sha256sum`},
		{"plain key instead of hash", `{"keys":[{"consumer":"a","key_sha256":"` + acmeKey + `"}]}`, `keys[0] (consumer "a"): key_sha256 must be 64 hex characters, the output of: printf %s "$KEY" | sha256sum`},
		{"key field", `{"keys":[{"consumer":"a","key":"` + acmeKey + `"}]}`, `decode config: json: unknown field "key"`},
		{"no consumer", `{"keys":[{"key_sha256":"` + good + `"}]}`, "keys[0]: consumer is empty; name who the key belongs to"},
		{"duplicate", `{"keys":[{"consumer":"a","key_sha256":"` + good + `"},{"consumer":"b","key_sha256":"` + strings.ToUpper(good) + `"}]}`, `keys[1] (consumer "b"): same key_sha256 as consumer "a"; each key must be unique`},
		{"nowhere to read", `{"header":"","keys":[{"consumer":"a","key_sha256":"` + good + `"}]}`, "header and query are both empty; set where the key is read"},
		{"bad header", `{"header":"x api key","keys":[{"consumer":"a","key_sha256":"` + good + `"}]}`, `header "x api key" is not a valid header name`},
		{"bad metadata header", `{"metadata_headers":{"plan":"X:Plan"},"keys":[{"consumer":"a","key_sha256":"` + good + `"}]}`, `metadata_headers: "plan" -> "X:Plan" is not a valid header name`},
		{"ok", `{"keys":[{"consumer":"a","key_sha256":"` + good + `"}]}`, ""},
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

func TestQueryParam(t *testing.T) {
	for _, tc := range []struct {
		raw, expVal, expRest string
	}{
		{"api_key=k1", "k1", ""},
		{"a=1&api_key=k%2F1&b=2", "k/1", "a=1&b=2"},
		{"api%5Fkey=k1&z=%zz", "k1", "z=%zz"},
		{"a=1&b=%20x", "", "a=1&b=%20x"},
		{"api_key=first&api_key=second&c=3", "first", "c=3"},
		{"api_key=%zz", "", ""},
		{"", "", ""},
	} {
		assert.Equal(t, tc.expVal, queryParam(tc.raw, "api_key"), tc.raw)
		assert.Equal(t, tc.expRest, withoutParam(tc.raw, "api_key"), tc.raw)
	}
}
