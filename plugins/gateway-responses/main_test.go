package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

const cfgJSON = `{"responses":{
	"401": {"headers": {"WWW-Authenticate": "Bearer realm=\"api\""}},
	"404": {"body": "{\"error\":\"not here: ${path}\",\"id\":\"${requestId}\"}"},
	"5xx": {"status": 503, "body": "{\"error\":\"${message}\",\"status\":${status},\"id\":\"${requestId}\"}"},
	"default": {"headers": {"X-Error": "1"}}
}}`

func TestResponses(t *testing.T) {
	tests := []struct {
		name                string
		upStatus            int
		upBody              string
		expStatus           int
		expBody, expHdr, hv string
	}{
		{name: "success untouched", upStatus: 200, upBody: `ok`, expStatus: 200, expBody: `ok`},
		{name: "3xx untouched", upStatus: 302, upBody: ``, expStatus: 302, expBody: ``},
		{name: "exact status headers only", upStatus: 401, upBody: `{"message":"Unauthorized"}`, expStatus: 401, expBody: `{"message":"Unauthorized"}`, expHdr: "Www-Authenticate", hv: `Bearer realm="api"`},
		{name: "exact status body", upStatus: 404, upBody: `{"message":"Not Found"}`, expStatus: 404, expBody: `{"error":"not here: /x\"y","id":"r-1"}`},
		{name: "class with gateway message and id", upStatus: 502, upBody: `{"message":"Bad gateway","requestId":"gw-9"}`, expStatus: 503, expBody: `{"error":"Bad gateway","status":502,"id":"gw-9"}`},
		{name: "class with non-JSON body", upStatus: 500, upBody: `<html>`, expStatus: 503, expBody: `{"error":"","status":500,"id":"r-1"}`},
		{name: "default", upStatus: 429, upBody: `{"message":"Too Many Requests"}`, expStatus: 429, expBody: `{"message":"Too Many Requests"}`, expHdr: "X-Error", hv: "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, cfgJSON)
			h.Upstream = plugintest.Upstream{Status: tc.upStatus, Body: []byte(tc.upBody), Header: http.Header{"Content-Type": {"application/json"}}}
			res := h.Do(&plugintest.Request{Path: `/x"y`, RequestID: "r-1"})
			assert.Equal(t, tc.expStatus, res.Status)
			assert.Equal(t, tc.expBody, string(res.Body))
			if tc.expHdr != "" {
				assert.Equal(t, tc.hv, res.Header.Get(tc.expHdr))
			}
		})
	}
}

func TestConfig(t *testing.T) {
	tests := []struct{ name, in, expErr string }{
		{name: "empty", in: `{}`, expErr: `responses is empty; add e.g. "404" = { body = ... }`},
		{name: "bad key", in: `{"responses":{"200":{}}}`, expErr: `responses: key "200" is not an error status (400-599), "4xx", "5xx" or "default"`},
		{name: "bad status", in: `{"responses":{"4xx":{"status":1000}}}`, expErr: `responses.4xx.status 1000 is not an HTTP status`},
		{name: "ok", in: `{"responses":{"default":{"status":400}}}`},
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
