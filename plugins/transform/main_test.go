package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

func jsonReq(body string) *plugintest.Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Tenant", "acme")
	return &plugintest.Request{
		Method: "POST", Path: "/users/42", Query: "q=go&page=2", Header: h, Body: []byte(body),
		RouteKey: "POST /users/{id}", Params: map[string]string{"id": "42"}, RequestID: "req-1", ClientIP: "10.0.0.1",
	}
}

func TestBodyTemplates(t *testing.T) {
	tests := []struct {
		name, tmpl, body, exp string
	}{
		{name: "issue example", tmpl: `{"user":"$.body.name","id":"$path.id","requestId":"$context.requestId","stage":"$stageVariables.env"}`,
			body: `{"name":"ann"}`, exp: `{"user":"ann","id":"42","requestId":"req-1","stage":"prod"}`},
		{name: "types kept", tmpl: `{"n":"$.body.n","b":"$.body.b","o":"$.body.o","a":"$.body.a","z":"$.body.z"}`,
			body: `{"n":1.5,"b":true,"o":{"x":[1]},"a":[1,"2"],"z":null}`, exp: `{"n":1.5,"b":true,"o":{"x":[1]},"a":[1,"2"],"z":null}`},
		{name: "big number exact", tmpl: `{"n":"$.body.n"}`, body: `{"n":123456789012345678901234567890}`, exp: `{"n":123456789012345678901234567890}`},
		{name: "missing is null", tmpl: `{"x":"$.body.nope.deeper"}`, body: `{}`, exp: `{"x":null}`},
		{name: "default", tmpl: `{"x":"$.body.nope | default(\"anon\")","y":"$query.none | default(0)"}`, body: `{}`, exp: `{"x":"anon","y":0}`},
		{name: "index and quoted key", tmpl: `{"x":"$.body.items[1].sku","y":"$.body[\"odd key\"]"}`, body: `{"items":[{"sku":"a"},{"sku":"b"}],"odd key":"v"}`, exp: `{"x":"b","y":"v"}`},
		{name: "index out of range", tmpl: `{"x":"$.body.items[5]"}`, body: `{"items":[]}`, exp: `{"x":null}`},
		{name: "int conversion", tmpl: `{"id":"$path.id | int","page":"$query.page | int"}`, body: ``, exp: `{"id":42,"page":2}`},
		{name: "number conversion", tmpl: `{"v":"$.body.s | number"}`, body: `{"s":" 2.50 "}`, exp: `{"v":2.50}`},
		{name: "bool conversion", tmpl: `{"v":"$.body.s | bool"}`, body: `{"s":"true"}`, exp: `{"v":true}`},
		{name: "string conversion", tmpl: `{"v":"$.body.n | string","o":"$.body.o | string"}`, body: `{"n":7,"o":{"a":1}}`, exp: `{"v":"7","o":"{\"a\":1}"}`},
		{name: "json filter", tmpl: `{"v":"$header.X-Meta | json"}`, body: ``, exp: `{"v":null}`},
		{name: "upper lower trim", tmpl: `{"u":"$header.X-Tenant | upper","l":"$.body.s | trim | lower"}`, body: `{"s":"  HeLLo "}`, exp: `{"u":"ACME","l":"hello"}`},
		{name: "interpolation", tmpl: `{"greeting":"hi ${$.body.name}, tenant ${$header.X-Tenant} on ${$context.httpMethod} ${$context.path}"}`,
			body: `{"name":"ann"}`, exp: `{"greeting":"hi ann, tenant acme on POST /users/42"}`},
		{name: "interpolation of missing is empty", tmpl: `{"g":"[${$.body.none}]"}`, body: `{}`, exp: `{"g":"[]"}`},
		{name: "unicode", tmpl: `{"g":"こんにちは ${$.body.name} 👋"}`, body: `{"name":"世界"}`, exp: `{"g":"こんにちは 世界 👋"}`},
		{name: "whole body", tmpl: `{"wrapped":"$.body"}`, body: `[1,2]`, exp: `{"wrapped":[1,2]}`},
		{name: "literals and arrays", tmpl: `{"v":1,"t":true,"l":["$path.id","x",null]}`, body: ``, exp: `{"v":1,"t":true,"l":["42","x",null]}`},
		{name: "empty body is null", tmpl: `{"b":"$.body"}`, body: ``, exp: `{"b":null}`},
		{name: "context", tmpl: `{"r":"$context.routeKey","ip":"$context.clientIp","s":"$context.status"}`, body: ``, exp: `{"r":"POST /users/{id}","ip":"10.0.0.1","s":null}`},
		{name: "template from file() string", tmpl: `"{\"u\":\"$.body.name\"}"`, body: `{"name":"z"}`, exp: `{"u":"z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, `{"stage_variables":{"env":"prod"},"request":{"body":`+tc.tmpl+`}}`)
			res := h.Do(jsonReq(tc.body))
			require.True(t, res.UpstreamCalled, "status %d %s", res.Status, res.Body)
			assert.JSONEq(t, tc.exp, string(res.Request.Body))
			assert.Equal(t, "application/json", res.Request.Header.Get("Content-Type"))
		})
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		name, tmpl, body string
		expStatus        int
		expBody, expLog  string
	}{
		{name: "malformed JSON", tmpl: `{"u":"$.body.name"}`, body: `{"name":`, expStatus: 400, expBody: `{"message":"Malformed JSON in request body"}`},
		{name: "trailing data", tmpl: `{"u":"$.body.name"}`, body: `{} {}`, expStatus: 400, expBody: `{"message":"Malformed JSON in request body"}`},
		{name: "malformed ignored when body unused", tmpl: `{"id":"$path.id"}`, body: `not json`, expStatus: 200},
		{name: "conversion fails", tmpl: `{"n":"$.body.n | int"}`, body: `{"n":"abc"}`, expStatus: 500,
			expBody: `{"message":"Internal server error","requestId":"req-1"}`, expLog: `transform request.body: evaluate template: "$.body.n | int": int: "abc" is not a number`},
		{name: "int of fraction", tmpl: `{"n":"$.body.n | int"}`, body: `{"n":1.5}`, expStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, `{"request":{"body":`+tc.tmpl+`}}`)
			res := h.Do(jsonReq(tc.body))
			assert.Equal(t, tc.expStatus, res.Status)
			assert.Equal(t, tc.expStatus == 200, res.UpstreamCalled)
			if tc.expBody != "" {
				assert.JSONEq(t, tc.expBody, string(res.Body))
			}
			if tc.expLog != "" {
				require.NotEmpty(t, h.Logs)
				assert.Equal(t, tc.expLog, h.Logs[0].Message)
			}
		})
	}
}

func TestHeadersQueryPath(t *testing.T) {
	h := plugintest.New(t, `{
		"stage_variables": {"env": "prod"},
		"request": {
			"path": "/v2/accounts/{id}/profile",
			"headers": {"add": {"X-Via": "gw"}, "set": {"X-Stage": "${$stageVariables.env}", "X-Id": "${$path.id}"}, "rename": {"X-Tenant": "X-Org"}, "remove": ["Cookie"]},
			"query": {"add": {"src": "gw"}, "set": {"page": "${$query.page | int}0"}, "rename": {"q": "search"}, "remove": ["debug"]}
		}
	}`)
	r := jsonReq(`{}`)
	r.Query = "q=go&page=2&debug=1"
	r.Header.Set("Cookie", "a=b")
	r.Params["id"] = "a b/c"
	res := h.Do(r)
	require.True(t, res.UpstreamCalled)
	assert.Equal(t, "/v2/accounts/a%20b%2Fc/profile", res.Request.Path, "params are escaped")
	assert.Equal(t, "page=20&search=go&src=gw", res.Request.Query)
	hd := res.Request.Header
	assert.Equal(t, "gw", hd.Get("X-Via"))
	assert.Equal(t, "prod", hd.Get("X-Stage"))
	assert.Equal(t, "a b/c", hd.Get("X-Id"))
	assert.Equal(t, "acme", hd.Get("X-Org"))
	assert.Empty(t, hd.Get("X-Tenant"))
	assert.Empty(t, hd.Get("Cookie"))
	assert.Equal(t, `{}`, string(res.Request.Body), "no body template keeps the body")
}

func TestResponse(t *testing.T) {
	tests := []struct {
		name, cfg string
		upStatus  int
		upBody    string
		expStatus int
		expBody   string
		expHeader string
	}{
		{name: "body mapping", cfg: `{"body":{"data":"$.body.items","count":"$.body.total | int","status":"$context.status | int","rid":"$context.requestId"}}`,
			upStatus: 200, upBody: `{"items":[1],"total":"1"}`, expStatus: 200, expBody: `{"data":[1],"count":1,"status":200,"rid":"req-1"}`},
		{name: "status by code", cfg: `{"status":[{"from":[404,410],"to":200}]}`, upStatus: 404, upBody: `nf`, expStatus: 200, expBody: `nf`},
		{name: "status code not matched", cfg: `{"status":[{"from":[404],"to":200}]}`, upStatus: 500, upBody: `x`, expStatus: 500, expBody: `x`},
		{name: "status by body pattern", cfg: `{"status":[{"body_pattern":"\"error\":\\s*\"not_found\"","to":404}]}`, upStatus: 200, upBody: `{"error": "not_found"}`, expStatus: 404},
		{name: "status by code and pattern, first match", cfg: `{"status":[{"from":[200],"body_pattern":"quota","to":429},{"from":[200],"to":201}]}`, upStatus: 200, upBody: `ok`, expStatus: 201},
		{name: "non-JSON upstream body is a string", cfg: `{"body":{"raw":"$.body"}}`, upStatus: 502, upBody: `<html>bad</html>`, expStatus: 502, expBody: `{"raw":"<html>bad</html>"}`},
		{name: "response headers", cfg: `{"headers":{"set":{"X-Status":"${$context.status}"},"remove":["Server"],"rename":{"X-Up":"X-Down"}}}`, upStatus: 201, upBody: `b`, expStatus: 201, expBody: `b`, expHeader: "201"},
		{name: "failing response template", cfg: `{"body":{"n":"$.body.n | int"}}`, upStatus: 200, upBody: `{"n":"x"}`, expStatus: 500, expBody: `{"message":"Internal server error","requestId":"req-1"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, `{"response":`+tc.cfg+`}`)
			h.Upstream = plugintest.Upstream{Status: tc.upStatus, Body: []byte(tc.upBody), Header: http.Header{"Server": {"up"}, "X-Up": {"1"}}}
			res := h.Do(jsonReq(``))
			assert.Equal(t, tc.expStatus, res.Status)
			if tc.expBody != "" {
				if tc.expBody[0] == '{' {
					assert.JSONEq(t, tc.expBody, string(res.Body))
				} else {
					assert.Equal(t, tc.expBody, string(res.Body))
				}
			}
			if tc.expHeader != "" {
				assert.Equal(t, tc.expHeader, res.Header.Get("X-Status"))
				assert.Empty(t, res.Header.Get("Server"))
				assert.Equal(t, "1", res.Header.Get("X-Down"))
			}
		})
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name, in, expErr string
	}{
		{name: "empty", in: `{}`, expErr: "nothing to transform; set request or response"},
		{name: "unknown field", in: `{"requests":{}}`, expErr: `decode config: json: unknown field "requests"`},
		{name: "unknown root", in: `{"request":{"body":{"a":"$bodyx.y"}}}`, expErr: `template request.body/a: "$bodyx.y": unexpected "x.y" in selector; use .key, [0] or ["key"]`},
		{name: "unknown source", in: `{"request":{"body":{"a":"$foo.y"}}}`, expErr: `template request.body/a: "$foo.y": unknown root "$foo"; use $.body, $path, $query, $header, $context or $stageVariables`},
		{name: "unknown context", in: `{"request":{"body":{"a":"$context.nope"}}}`, expErr: `template request.body/a: "$context.nope": unknown context variable "nope"; use one of clientIp, httpMethod, path, requestId, requestTimeEpoch, routeKey, status`},
		{name: "unknown filter", in: `{"request":{"body":{"a":"$path.id | float"}}}`, expErr: `template request.body/a: "$path.id | float": unknown filter "float"; use default(v), string, number, int, bool, json, upper, lower or trim`},
		{name: "bad default", in: `{"request":{"body":{"a":"$path.id | default(x)"}}}`, expErr: `template request.body/a: "$path.id | default(x)": default(x): the argument must be a JSON literal such as "x", 0 or null`},
		{name: "unclosed interpolation", in: `{"request":{"headers":{"set":{"X":"a ${$path.id"}}}}`, expErr: `template request.headers.set.X: "a ${$path.id": unclosed ${; close it with }`},
		{name: "bad index", in: `{"request":{"body":["$.body.a[-1]"]}}`, expErr: `template request.body/0: "$.body.a[-1]": index [-1] must be a non-negative integer or a quoted key`},
		{name: "relative path", in: `{"request":{"path":"v2"}}`, expErr: `request.path "v2" must start with /`},
		{name: "bad status", in: `{"response":{"status":[{"to":42}]}}`, expErr: `response.status[0].to = 42 is not an HTTP status; use 100-599`},
		{name: "bad pattern", in: `{"response":{"status":[{"to":200,"body_pattern":"("}]}}`, expErr: "response.status[0].body_pattern: error parsing regexp"},
		{name: "response path", in: `{"response":{"path":"/x"}}`, expErr: "response.path and response.query are not supported; rewrite paths and queries in request"},
		{name: "ok", in: `{"request":{"body":{"a":"$.body.x | default(1) | int"}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugintest.NewUnconfigured(t, tc.in).Configure()
			if tc.expErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.expErr)
		})
	}
}

// TestPhases: the plugin asks only for the phases its config uses, so the
// gateway streams the bodies it does not touch.
func TestPhases(t *testing.T) {
	const (
		reqH  = abi.PhaseRequestHeaders
		reqB  = abi.PhaseRequestBody
		respH = abi.PhaseResponseHeaders
		respB = abi.PhaseResponseBody
	)
	for _, tc := range []struct {
		name, cfg string
		exp       uint32
	}{
		{"request headers only", `{"request":{"headers":{"set":{"X-A":"1"}}}}`, reqH},
		{"request path and body", `{"request":{"path":"/v2","body":{"a":"$.body.a"}}}`, reqH | reqB},
		{"request body only", `{"request":{"body":{"id":"$path.id"}}}`, reqB},
		{"response headers", `{"response":{"headers":{"remove":["Server"]}}}`, respH},
		{"response status", `{"response":{"status":[{"from":[404],"to":200}]}}`, respB},
		{"both sides", `{"request":{"query":{"remove":["a"]}},"response":{"body":{"d":"$.body"}}}`, reqH | respB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, plugintest.New(t, tc.cfg).Phases())
		})
	}
}

func TestSplitPath(t *testing.T) {
	assert.Equal(t, []pathPart{{"/v2/users/", false}, {"id", true}, {"/x", false}}, splitPath("/v2/users/{id}/x"))
	assert.Equal(t, []pathPart{{"a", true}, {"b", true}}, splitPath("{a}{b}"))
	assert.Equal(t, []pathPart{{"/{1bad}", false}}, splitPath("/{1bad}"), "not a parameter name: kept literally")
	assert.Nil(t, splitPath(""))
}
