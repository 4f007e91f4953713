package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

func TestLimits(t *testing.T) {
	const cfg = `{"max_bytes":10,"content_types":["application/json","text/plain"]}`
	tests := []struct {
		name, ct, body string
		declared       int // Content-Length header; -1 none (chunked)
		expStatus      int
		expBody        string
	}{
		{name: "ok", ct: "application/json", body: `{"a":1}`, declared: 7, expStatus: 200},
		{name: "ok with charset", ct: "text/plain; charset=utf-8", body: `hi`, declared: 2, expStatus: 200},
		{name: "exactly at the cap", ct: "text/plain", body: strings.Repeat("x", 10), declared: 10, expStatus: 200},
		{name: "declared over the cap", ct: "application/json", body: strings.Repeat("x", 11), declared: 11, expStatus: 413, expBody: `{"message":"Request Entity Too Large"}`},
		{name: "chunked over the cap", ct: "application/json", body: strings.Repeat("x", 11), declared: -1, expStatus: 413},
		{name: "unicode counted in bytes", ct: "text/plain", body: "日本語日", declared: -1, expStatus: 413},
		{name: "wrong type", ct: "application/xml", body: `<a/>`, declared: 4, expStatus: 415, expBody: `{"message":"Unsupported Media Type"}`},
		{name: "garbage type", ct: "???", body: `x`, declared: 1, expStatus: 415},
		{name: "body without type", ct: "", body: `x`, declared: 1, expStatus: 415},
		{name: "no body no type", ct: "", body: ``, declared: 0, expStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, cfg)
			hd := http.Header{}
			if tc.ct != "" {
				hd.Set("Content-Type", tc.ct)
			}
			if tc.declared >= 0 {
				hd.Set("Content-Length", strconv.Itoa(tc.declared))
			} else {
				hd.Set("Transfer-Encoding", "chunked")
			}
			res := h.Do(&plugintest.Request{Method: "POST", Header: hd, Body: []byte(tc.body)})
			assert.Equal(t, tc.expStatus, res.Status)
			assert.Equal(t, tc.expStatus == 200, res.UpstreamCalled)
			if tc.expBody != "" {
				assert.JSONEq(t, tc.expBody, string(res.Body))
			}
		})
	}
}

func TestConfig(t *testing.T) {
	tests := []struct{ name, in, expErr string }{
		{name: "empty", in: `{}`, expErr: "nothing to limit; set max_bytes or content_types"},
		{name: "negative", in: `{"max_bytes":-1}`, expErr: "max_bytes must not be negative; use 0 for no cap"},
		{name: "bad type", in: `{"content_types":["/"]}`, expErr: `content_types: "/": mime: no media type`},
		{name: "unknown", in: `{"max":1}`, expErr: `decode config: json: unknown field "max"`},
		{name: "ok", in: `{"max_bytes":1}`},
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
