package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

const testCfg = `{"upstream":"auth","principal_header":"X-Principal","cache_ttl":"1m"}`

// authService is a fake auth service: tokens map to (status, body).
type authService struct {
	calls   int
	answers map[string]reply
	gotAuth []string
}

func (a *authService) handle(upstream string, r *http.Request) *http.Response {
	if upstream != "auth" {
		return nil // the harness turns nil into "denied"
	}
	a.calls++
	a.gotAuth = append(a.gotAuth, r.Header.Get("Authorization"))
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	rep, ok := a.answers[tok]
	if !ok {
		rep = reply{status: 401}
	}
	return &http.Response{StatusCode: rep.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(rep.body))}
}

// reply is the fake auth service's answer to one token.
type reply struct {
	status int
	body   string
}

func answer(status int, body string) *reply { return &reply{status, body} }

func TestAuthorizer(t *testing.T) {
	tests := []struct {
		name, auth   string
		answer       *reply
		expStatus    int
		expPrincipal string
		expCalls     int
		expLog       string
	}{
		{name: "allowed", auth: "Bearer good", answer: answer(200, `{"principal":"alice"}`), expStatus: 200, expPrincipal: "alice", expCalls: 1},
		{name: "prefix is case-insensitive", auth: "bearer good", answer: answer(200, `{"principal":"alice"}`), expStatus: 200, expPrincipal: "alice", expCalls: 1},
		{name: "denied", auth: "Bearer bad", answer: answer(401, ``), expStatus: 401, expCalls: 1, expLog: "custom-authorizer: token 2f05d4b6 denied"},
		{name: "forbidden", auth: "Bearer banned", answer: answer(403, ``), expStatus: 403, expCalls: 1, expLog: "custom-authorizer: token 7b412527 forbidden"},
		{name: "no header", expStatus: 401, expLog: "custom-authorizer: no token in Authorization"},
		{name: "wrong scheme", auth: "Basic Zm9vOmJhcg==", expStatus: 401, expLog: "custom-authorizer: no token in Authorization"},
		{name: "empty token", auth: "Bearer   ", expStatus: 401, expLog: "custom-authorizer: no token in Authorization"},
		{name: "auth service error", auth: "Bearer tok-9f3c", answer: answer(500, `oops`), expStatus: 503, expCalls: 1, expLog: `custom-authorizer: token ea812cae: upstream "auth" answered 500; want 200, 401 or 403; refusing with 503`},
		{name: "allow without principal", auth: "Bearer tok-9f3c", answer: answer(200, `{}`), expStatus: 503, expCalls: 1, expLog: `custom-authorizer: token ea812cae: upstream "auth" answered 200 without a valid {"principal":"..."} body; refusing with 503`},
		{name: "allow with garbage body", auth: "Bearer tok-9f3c", answer: answer(200, `<html>`), expStatus: 503, expCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, testCfg)
			svc := &authService{answers: map[string]reply{}}
			if tc.answer != nil {
				tok := strings.TrimSpace(tc.auth[strings.Index(tc.auth, " ")+1:])
				svc.answers[tok] = *tc.answer
			}
			h.HTTP = svc.handle
			hdr := http.Header{"X-Principal": {"spoofed"}}
			if tc.auth != "" {
				hdr.Set("Authorization", tc.auth)
			}
			res := h.Do(&plugintest.Request{Header: hdr})
			assert.Equal(t, tc.expStatus, res.Status)
			assert.Equal(t, tc.expCalls, svc.calls)
			if tc.expStatus == 200 {
				require.True(t, res.UpstreamCalled)
				assert.Equal(t, tc.expPrincipal, res.Request.Properties["auth.principal"])
				assert.Equal(t, []string{tc.expPrincipal}, res.Request.Header.Values("X-Principal"))
				assert.Equal(t, []string{"Bearer good"}, svc.gotAuth, "token passed to the auth service")
				return
			}
			assert.False(t, res.UpstreamCalled)
			msg := map[int]string{401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable"}[tc.expStatus]
			assert.JSONEq(t, `{"message":"`+msg+`"}`, string(res.Body))
			if tc.expLog != "" {
				require.NotEmpty(t, h.Logs)
				assert.Equal(t, tc.expLog, h.Logs[len(h.Logs)-1].Message)
			}
			if tok := strings.TrimSpace(strings.TrimPrefix(tc.auth, "Bearer ")); tok != "" {
				for _, l := range h.Logs {
					assert.NotContains(t, l.Message, tok, "tokens are never logged")
				}
			}
		})
	}
}

func TestCacheByTokenHash(t *testing.T) {
	h := plugintest.New(t, testCfg)
	svc := &authService{answers: map[string]reply{"good": {200, `{"principal":"alice"}`}, "banned": {403, ""}}}
	h.HTTP = svc.handle
	do := func(tok string) *plugintest.Result {
		return h.Do(&plugintest.Request{Header: http.Header{"Authorization": {"Bearer " + tok}}})
	}
	for range 3 {
		assert.True(t, do("good").UpstreamCalled)
		assert.Equal(t, 403, do("banned").Status)
		assert.Equal(t, 401, do("unknown").Status)
	}
	assert.Equal(t, 3, svc.calls, "one call per token, then cached (allow, forbid and deny)")
	assert.Equal(t, 6.0, h.Metrics["authorizer_cache_hits_total"])
	require.Len(t, h.KV, 3)
	for k, v := range h.KV {
		assert.True(t, strings.HasPrefix(k, "tok:") && len(k) == 4+64, "key is the token's sha256: %s", k)
		assert.NotContains(t, k, "good")
		assert.NotContains(t, string(v), "good")
	}
	assert.Equal(t, "Aalice", string(h.KV["tok:770e607624d689265ca6c44884d0807d9b054d23c473c106c72be9de08b7376c"]))
}

func TestUnavailable(t *testing.T) {
	t.Run("503 by default and not cached", func(t *testing.T) {
		h := plugintest.New(t, testCfg) // h.HTTP nil: every call fails as unavailable
		for range 2 {
			res := h.Do(&plugintest.Request{Header: http.Header{"Authorization": {"Bearer good"}}})
			assert.Equal(t, 503, res.Status)
			assert.False(t, res.UpstreamCalled)
		}
		assert.Empty(t, h.KV)
		assert.Equal(t, 2.0, h.Metrics["authorizer_calls_total"])
	})
	t.Run("401 when configured", func(t *testing.T) {
		h := plugintest.New(t, `{"upstream":"auth","unavailable_status":401}`)
		res := h.Do(&plugintest.Request{Header: http.Header{"Authorization": {"Bearer good"}}})
		assert.Equal(t, 401, res.Status)
		assert.JSONEq(t, `{"message":"Unauthorized"}`, string(res.Body))
	})
	t.Run("undeclared upstream", func(t *testing.T) {
		h := plugintest.New(t, `{"upstream":"other"}`)
		h.HTTP = (&authService{}).handle
		res := h.Do(&plugintest.Request{Header: http.Header{"Authorization": {"Bearer good"}}})
		assert.Equal(t, 503, res.Status)
		assert.Contains(t, h.Logs[len(h.Logs)-1].Message, `call upstream "other": denied by the gateway`)
	})
}

func TestCustomTokenHeader(t *testing.T) {
	h := plugintest.New(t, `{"upstream":"auth","token_header":"X-Api-Token","cache_ttl":"0s"}`)
	svc := &authService{answers: map[string]reply{"k1": {200, `{"principal":"svc"}`}}}
	h.HTTP = svc.handle
	for range 2 {
		res := h.Do(&plugintest.Request{Header: http.Header{"X-Api-Token": {"k1"}}})
		assert.True(t, res.UpstreamCalled)
	}
	assert.Equal(t, 2, svc.calls, "cache disabled")
	assert.Empty(t, h.KV)
}

func TestConfig(t *testing.T) {
	tests := []struct{ name, in, expErr string }{
		{name: "no upstream", in: `{}`, expErr: `upstream: name the auth service's upstream, e.g. upstream = "auth", and declare it with an upstream "auth" block`},
		{name: "bad path", in: `{"upstream":"auth","path":"authorize"}`, expErr: `path: "authorize" must start with '/'`},
		{name: "bad ttl", in: `{"upstream":"auth","cache_ttl":"-1s"}`, expErr: `cache_ttl: "-1s" is not a duration like "5m0s"`},
		{name: "zero timeout", in: `{"upstream":"auth","timeout":"0s"}`, expErr: `timeout: must be above zero, e.g. "500ms"`},
		{name: "fail open refused", in: `{"upstream":"auth","unavailable_status":200}`, expErr: `unavailable_status: 200 must be 503 or 401 (the authorizer always fails closed)`},
		{name: "bad header", in: `{"upstream":"auth","principal_header":"X P"}`, expErr: `principal_header: "X P" is not a header name`},
		{name: "ok", in: testCfg},
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
