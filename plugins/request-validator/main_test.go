package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

// cfgWithSchema builds a config JSON with schema inlined as an object.
func cfgWithSchema(schema string, extra string) string {
	c := `{"report_errors":true,"schema":` + schema
	if extra != "" {
		c += "," + extra
	}
	return c + "}"
}

func post(body string) *plugintest.Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &plugintest.Request{Method: "POST", Path: "/orders", Header: h, Body: []byte(body), RequestID: "r1"}
}

type errBody struct {
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors"`
}

func decode(t *testing.T, b []byte) errBody {
	t.Helper()
	var e errBody
	require.NoError(t, json.Unmarshal(b, &e), "body %s", b)
	return e
}

func TestSchemas(t *testing.T) {
	order, err := os.ReadFile("testdata/order.json")
	require.NoError(t, err)
	deep := strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200)
	tests := []struct {
		name, schema, draft, body string
		expOK                     bool
		expPointers               []string
		expReason                 string
	}{
		{name: "order ok", schema: string(order), body: `{"item":"book","quantity":2}`, expOK: true},
		{name: "order with tags", schema: string(order), body: `{"item":"book","quantity":2,"tags":["a","b"]}`, expOK: true},
		{name: "order missing quantity", schema: string(order), body: `{"item":"book"}`, expPointers: []string{""}, expReason: "missing property 'quantity'"},
		{name: "order wrong type", schema: string(order), body: `{"item":"book","quantity":"2"}`, expPointers: []string{"/quantity"}, expReason: "got string, want integer"},
		{name: "order extra property", schema: string(order), body: `{"item":"book","quantity":2,"x":1}`, expPointers: []string{""}},
		{name: "order duplicate tags", schema: string(order), body: `{"item":"book","quantity":2,"tags":["a","a"]}`, expPointers: []string{"/tags"}},
		{name: "order two errors", schema: string(order), body: `{"item":"","quantity":0}`, expPointers: []string{"/item", "/quantity"}},
		{name: "unicode ok", schema: string(order), body: `{"item":"日本語の本 📚","quantity":1,"note":"ü\u00e9"}`, expOK: true},
		{name: "unicode length counts runes", schema: `{"type":"string","maxLength":3}`, body: `"日本語"`, expOK: true},
		{name: "unicode too long", schema: `{"type":"string","maxLength":2}`, body: `"日本語"`, expPointers: []string{""}},
		{name: "big integer kept exact", schema: `{"type":"integer","maximum":18446744073709551615}`, body: `18446744073709551615`, expOK: true},
		{name: "big integer over max", schema: `{"type":"integer","maximum":18446744073709551615}`, body: `18446744073709551616`, expPointers: []string{""}},
		{name: "huge exponent is a number", schema: `{"type":"number"}`, body: `1e400`, expOK: true},
		{name: "1.0 is an integer", schema: `{"type":"integer"}`, body: `1.0`, expOK: true},
		{name: "1.5 is not an integer", schema: `{"type":"integer"}`, body: `1.5`, expPointers: []string{""}},
		{name: "deep nesting ok", schema: `{"type":"object"}`, body: deep, expOK: true},
		{name: "empty body", schema: `{"type":"object"}`, body: ``, expPointers: []string{""}, expReason: "body is empty"},
		{name: "whitespace body", schema: `{"type":"object"}`, body: " \n\t", expPointers: []string{""}, expReason: "body is empty"},
		{name: "malformed json", schema: `{"type":"object"}`, body: `{"a":`, expPointers: []string{""}, expReason: "malformed JSON"},
		{name: "trailing garbage", schema: `{"type":"object"}`, body: `{} x`, expPointers: []string{""}, expReason: "malformed JSON"},
		{name: "null vs object", schema: `{"type":"object"}`, body: `null`, expPointers: []string{""}},
		{name: "draft 4 exclusiveMaximum boolean", schema: `{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","maximum":10,"exclusiveMaximum":true}`, body: `10`, expPointers: []string{""}},
		{name: "draft 4 via config", draft: "4", schema: `{"type":"number","maximum":10,"exclusiveMaximum":true}`, body: `9`, expOK: true},
		{name: "draft 7 if then else", schema: `{"$schema":"http://json-schema.org/draft-07/schema#","if":{"properties":{"kind":{"const":"a"}}},"then":{"required":["a"]},"else":{"required":["b"]}}`, body: `{"kind":"a","b":1}`, expPointers: []string{""}},
		{name: "draft 7 if then ok", draft: "7", schema: `{"if":{"properties":{"kind":{"const":"a"}}},"then":{"required":["a"]}}`, body: `{"kind":"a","a":1}`, expOK: true},
		{name: "2020-12 prefixItems", schema: `{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}`, body: `["a",1]`, expOK: true},
		{name: "2020-12 prefixItems extra", schema: `{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}`, body: `["a",1,2]`, expPointers: []string{"/2"}},
		{name: "2020-12 unevaluatedProperties", schema: `{"allOf":[{"properties":{"a":{}}}],"unevaluatedProperties":false}`, body: `{"a":1,"b":2}`, expPointers: []string{"/b"}},
		{name: "$ref and $defs", schema: `{"$defs":{"pos":{"type":"integer","minimum":1}},"type":"object","properties":{"n":{"$ref":"#/$defs/pos"}}}`, body: `{"n":0}`, expPointers: []string{"/n"}},
		{name: "nested array pointer", schema: `{"type":"object","properties":{"lines":{"type":"array","items":{"type":"object","required":["sku"]}}}}`, body: `{"lines":[{"sku":"a"},{}]}`, expPointers: []string{"/lines/1"}},
		{name: "enum", schema: `{"enum":["red","green"]}`, body: `"blue"`, expPointers: []string{""}},
		{name: "pattern", schema: `{"type":"string","pattern":"^[a-z]+$"}`, body: `"abc1"`, expPointers: []string{""}},
		{name: "schema as JSON string (file())", schema: `"{\"type\":\"string\"}"`, body: `"ok"`, expOK: true},
		{name: "schema as JSON string rejects", schema: `"{\"type\":\"string\"}"`, body: `1`, expPointers: []string{""}},
		{name: "boolean schema true", schema: `true`, body: `{"anything":[1,2,3]}`, expOK: true},
		{name: "boolean schema false", schema: `false`, body: `{}`, expPointers: []string{""}},
		{name: "draft 6 via config", draft: "6", schema: `{"type":"number","exclusiveMaximum":10}`, body: `10`, expPointers: []string{""}},
		{name: "draft 2019-09 via $schema", schema: `{"$schema":"https://json-schema.org/draft/2019-09/schema","type":"array","items":[{"type":"string"}]}`, body: `[1]`, expPointers: []string{"/0"}},
		{name: "nul in a string", schema: `{"const":"a"}`, body: `"\u0000"`, expPointers: []string{""}},
	}
	// Every case runs on both engines: the gateway's native validator
	// (json_schema_*, the default) and the module's own.
	for _, engine := range []string{"host", "guest"} {
		for _, tc := range tests {
			t.Run(engine+"/"+tc.name, func(t *testing.T) {
				extra := `"schema_engine":"` + engine + `"`
				if tc.draft != "" {
					extra += `,"draft":"` + tc.draft + `"`
				}
				h := plugintest.New(t, cfgWithSchema(tc.schema, extra))
				res := h.Do(post(tc.body))
				if tc.expOK {
					assert.True(t, res.UpstreamCalled, "body %s", res.Body)
					return
				}
				require.True(t, res.Responded)
				assert.Equal(t, 400, res.Status)
				assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
				e := decode(t, res.Body)
				assert.Equal(t, "Invalid request body", e.Message)
				var ptrs []string
				for _, fe := range e.Errors {
					ptrs = append(ptrs, fe.Pointer)
				}
				assert.ElementsMatch(t, tc.expPointers, ptrs, "errors %+v", e.Errors)
				if tc.expReason != "" {
					require.NotEmpty(t, e.Errors)
					assert.Contains(t, e.Errors[0].Reason, tc.expReason)
				}
			})
		}
	}
}

func TestErrorsListOptional(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		h := plugintest.New(t, `{"schema":{"type":"object"}}`)
		res := h.Do(post(`[]`))
		assert.Equal(t, 400, res.Status)
		assert.JSONEq(t, `{"message":"Invalid request body"}`, string(res.Body), "AWS wording, no errors unless report_errors")
	})
	t.Run("max_errors", func(t *testing.T) {
		h := plugintest.New(t, `{"report_errors":true,"max_errors":1,"schema":{"properties":{"a":{"type":"string"},"b":{"type":"string"}}}}`)
		res := h.Do(post(`{"a":1,"b":2}`))
		assert.Len(t, decode(t, res.Body).Errors, 1, "max_errors caps the list")
	})
}

func TestAllowEmptyBody(t *testing.T) {
	h := plugintest.New(t, `{"allow_empty_body":true,"schema":{"type":"object"}}`)
	assert.True(t, h.Do(post(``)).UpstreamCalled)
	assert.Equal(t, 400, h.Do(post(`1`)).Status)
}

func TestParameters(t *testing.T) {
	cfg := `{
		"report_errors": true,
		"required_query": ["tenant"],
		"required_headers": ["X-Api-Version"],
		"content_types": ["application/json", "application/merge-patch+json"],
		"path_params": {"id": "^[0-9]{1,9}$"}
	}`
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	good := hdr("X-Api-Version", "1", "Content-Type", "application/json; charset=utf-8")
	tests := []struct {
		name, query string
		header      http.Header
		id          string
		expStatus   int
		expBody     string
	}{
		{name: "ok", query: "tenant=a", header: good, id: "42", expStatus: 200},
		{name: "empty query value counts as present", query: "tenant=", header: good, id: "42", expStatus: 200},
		{name: "merge patch type", query: "tenant=a", header: hdr("X-Api-Version", "1", "Content-Type", "application/merge-patch+json"), id: "1", expStatus: 200},
		{name: "missing query", query: "other=1", header: good, id: "42", expStatus: 400,
			expBody: `{"message":"Missing required request parameters: [tenant]","errors":[{"pointer":"tenant","reason":"required"}]}`},
		{name: "missing query and header", query: "", header: hdr("Content-Type", "application/json"), id: "42", expStatus: 400,
			expBody: `{"message":"Missing required request parameters: [tenant, X-Api-Version]","errors":[{"pointer":"tenant","reason":"required"},{"pointer":"X-Api-Version","reason":"required"}]}`},
		{name: "bad path param", query: "tenant=a", header: good, id: "4x", expStatus: 400,
			expBody: `{"message":"Invalid request parameters","errors":[{"pointer":"id","reason":"does not match \"^[0-9]{1,9}$\""}]}`},
		{name: "unicode path param", query: "tenant=a", header: good, id: "४२", expStatus: 400},
		{name: "content type in capitals with spaces", query: "tenant=a", header: hdr("X-Api-Version", "1", "Content-Type", " Application/JSON "), id: "1", expStatus: 200},
		{name: "content type with an empty parameter list", query: "tenant=a", header: hdr("X-Api-Version", "1", "Content-Type", "application/json;"), id: "1", expStatus: 200},
		{name: "malformed content type", query: "tenant=a", header: hdr("X-Api-Version", "1", "Content-Type", "application / json"), id: "1", expStatus: 415},
		{name: "malformed content type parameter", query: "tenant=a", header: hdr("X-Api-Version", "1", "Content-Type", "application/json; charset"), id: "1", expStatus: 415},
		{name: "wrong content type", query: "tenant=a", header: hdr("X-Api-Version", "1", "Content-Type", "text/plain"), id: "1", expStatus: 415,
			expBody: `{"message":"Unsupported Media Type"}`},
		{name: "no content type", query: "tenant=a", header: hdr("X-Api-Version", "1"), id: "1", expStatus: 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, cfg)
			res := h.Do(&plugintest.Request{Method: "PUT", Path: "/items/" + tc.id, Query: tc.query, Header: tc.header, Params: map[string]string{"id": tc.id}})
			assert.Equal(t, tc.expStatus, res.Status, "body %s", res.Body)
			assert.Equal(t, tc.expStatus == 200, res.UpstreamCalled)
			if tc.expBody != "" {
				assert.JSONEq(t, tc.expBody, string(res.Body))
			}
		})
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name, in, expErr string
	}{
		{name: "empty", in: `{}`, expErr: "nothing to validate; set schema, required_query, required_headers, content_types or path_params"},
		{name: "unknown field", in: `{"schemas":{}}`, expErr: `decode config: json: unknown field "schemas"`},
		{name: "bad draft", in: `{"draft":"5","schema":{}}`, expErr: `draft "5" is not supported; use "4", "6", "7", "2019-09" or "2020-12"`},
		{name: "bad engine", in: `{"schema_engine":"gpu","schema":{}}`, expErr: `schema_engine "gpu" is not one of "auto", "host", "guest"`},
		{name: "external ref on host", in: `{"schema":{"$ref":"other.json"}}`, expErr: "is outside the schema; the gateway loads no files or URLs"},
		{name: "file ref on host", in: `{"schema":{"$ref":"file:///etc/passwd"}}`, expErr: "file:///etc/passwd is outside the schema"},
		{name: "http ref on host", in: `{"schema":{"$ref":"http://127.0.0.1:1/s.json"}}`, expErr: "http://127.0.0.1:1/s.json is outside the schema"},
		{name: "file ref in guest", in: `{"schema_engine":"guest","schema":{"$ref":"file:///etc/passwd"}}`, expErr: "file:///etc/passwd is outside the schema"},
		{name: "schema string not JSON", in: `{"schema":"{not json"}`, expErr: "schema is not valid JSON"},
		{name: "schema invalid type keyword", in: `{"schema":{"type":"strin"}}`, expErr: "compile schema:"},
		{name: "schema invalid minimum", in: `{"schema":{"minimum":"1"}}`, expErr: "compile schema:"},
		{name: "schema bad ref", in: `{"schema":{"$ref":"#/$defs/missing"}}`, expErr: "compile schema:"},
		{name: "bad path regexp", in: `{"path_params":{"id":"("}}`, expErr: "path_params.id: error parsing regexp"},
		{name: "bad content type", in: `{"content_types":["/"]}`, expErr: `content_types: "/"`},
		{name: "ok", in: `{"schema":{"type":"object"},"draft":"7"}`},
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

// TestEngineWithoutHostSchema: on a gateway without native validation, "auto"
// validates in the module and "host" is a config error.
func TestEngineWithoutHostSchema(t *testing.T) {
	t.Run("auto", func(t *testing.T) {
		h := plugintest.NewUnconfigured(t, cfgWithSchema(`{"type":"object","required":["a"]}`, ""))
		h.NoJSONSchema = true
		require.NoError(t, h.Configure())
		res := h.Do(post(`{"b":1}`))
		assert.Equal(t, 400, res.Status)
		assert.Equal(t, []string{""}, pointers(decode(t, res.Body)))
		assert.True(t, h.Do(post(`{"a":1}`)).UpstreamCalled)
	})
	t.Run("host", func(t *testing.T) {
		h := plugintest.NewUnconfigured(t, cfgWithSchema(`{"type":"object"}`, `"schema_engine":"host"`))
		h.NoJSONSchema = true
		err := h.Configure()
		require.Error(t, err)
		assert.Contains(t, err.Error(), `schema_engine = "host" but this gateway does not validate schemas natively`)
	})
}

func pointers(e errBody) []string {
	var out []string
	for _, fe := range e.Errors {
		out = append(out, fe.Pointer)
	}
	return out
}

// TestPhases: without a schema the body is not buffered for the plugin.
func TestPhases(t *testing.T) {
	for _, tc := range []struct {
		name, cfg string
		exp       uint32
	}{
		{"schema only", `{"schema":{"type":"object"}}`, abi.PhaseRequestBody},
		{"headers only", `{"required_headers":["X-A"]}`, abi.PhaseRequestHeaders},
		{"both", `{"content_types":["application/json"],"schema":{}}`, abi.PhaseRequestHeaders | abi.PhaseRequestBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, plugintest.New(t, tc.cfg).Phases())
		})
	}
}
