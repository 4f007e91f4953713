package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

// TestBodySelectors checks selection from the raw body byte for byte: the
// expected bodies are exact, not JSON-equal.
func TestBodySelectors(t *testing.T) {
	deep := func(n int) string { return strings.Repeat(`{"a":`, n) + `1` + strings.Repeat(`}`, n) }
	tests := []struct {
		name, tmpl, body, exp string
	}{
		{name: "key with dots", tmpl: `{"v":"$.body[\"a.b\"]"}`, body: `{"a.b":1,"a":{"b":2}}`, exp: `{"v":1}`},
		{name: "dotted path is nested", tmpl: `{"v":"$.body.a.b"}`, body: `{"a.b":1,"a":{"b":2}}`, exp: `{"v":2}`},
		{name: "key with wildcards", tmpl: `{"v":"$.body[\"a*\"]","w":"$.body[\"?\"]"}`, body: `{"abc":1,"a*":2,"x":3,"?":4}`, exp: `{"v":2,"w":4}`},
		{name: "wildcard key selects literally", tmpl: `{"v":"$.body.a*"}`, body: `{"abc":1}`, exp: `{"v":null}`},
		{name: "gjson syntax is literal", tmpl: `{"a":"$.body[\"#\"]","b":"$.body[\"@this\"]","c":"$.body[\"x|y\"]","d":"$.body[\"!true\"]","e":"$.body[\"a\\\\b\"]"}`,
			body: `{"#":1,"@this":2,"x|y":3,"!true":4,"a\\b":5,"x":6}`, exp: `{"a":1,"b":2,"c":3,"d":4,"e":5}`},
		{name: "key with quotes", tmpl: `{"v":"$.body[\"say \\\"hi\\\"\"]"}`, body: `{"say \"hi\"":"ok"}`, exp: `{"v":"ok"}`},
		{name: "escaped key in body", tmpl: `{"v":"$.body.name"}`, body: `{"n\u0061me":"x"}`, exp: `{"v":"x"}`},
		{name: "empty key", tmpl: `{"v":"$.body[\"\"]"}`, body: `{"":7}`, exp: `{"v":7}`},
		{name: "duplicate keys: the last wins, as encoding/json and request-validator read them", tmpl: `{"q":"$.body.q","r":"$.body.o.r"}`,
			body: `{"q":0,"o":{"r":1,"r":2},"q":3}`, exp: `{"q":3,"r":2}`},
		{name: "big numbers exact", tmpl: `{"a":"$.body.a","b":"$.body.b","c":"$.body.c","d":"$.body.d | string"}`,
			body: `{"a":123456789012345678901234567890,"b":-1.0000000000000000000001e-400,"c":1E+400,"d":9007199254740993}`,
			exp:  `{"a":123456789012345678901234567890,"b":-1.0000000000000000000001e-400,"c":1E+400,"d":"9007199254740993"}`},
		{name: "unicode", tmpl: `{"k":"$.body[\"ключ\"]","e":"$.body.e","s":"$.body.s","l":"$.body.l","h":"$.body.h"}`,
			body: `{"ключ":"значение 👋","e":"\u00e9\ud83d\ude00","s":"\ud800x","l":"a\u2028b","h":"<a&b>"}`,
			exp:  `{"e":"é😀","h":"\u003ca\u0026b\u003e","k":"значение 👋","l":"a\u2028b","s":"�x"}`},
		{name: "bad UTF-8 becomes U+FFFD", tmpl: `{"s":"$.body.s","o":"$.body.o"}`, body: "{\"s\":\"a\xffb\",\"o\":[\"\xfe\"]}", exp: `{"o":["�"],"s":"a�b"}`},
		{name: "control characters", tmpl: `{"s":"$.body.s"}`, body: `{"s":"\u0000\u001f\b\f\n\r\t\"\\\/"}`, exp: `{"s":"\u0000\u001f\b\f\n\r\t\"\\/"}`},
		{name: "nested object selected whole, re-encoded", tmpl: `{"o":"$.body.o"}`,
			body: "{\"o\": {\"z\" : [1, 2.50, {\"y\": \"<b> \\u00e9\"}],\n\t\"a\": null, \"t\": true}}",
			exp:  `{"o":{"a":null,"t":true,"z":[1,2.50,{"y":"\u003cb\u003e é"}]}}`},
		{name: "whole body, re-encoded", tmpl: `"$.body"`, body: " [ {\"b\":1, \"a\":2} ] \n", exp: `[{"a":2,"b":1}]`},
		{name: "copied object with a repeated key: once, the last", tmpl: `{"o":"$.body.o"}`, body: `{"o":{"q":0,"q":3}}`, exp: `{"o":{"q":3}}`},
		{name: "whole scalar body", tmpl: `{"b":"$.body"}`, body: ` "x" `, exp: `{"b":"x"}`},
		{name: "whole number body", tmpl: `{"b":"$.body"}`, body: `-0.5e3`, exp: `{"b":-0.5e3}`},
		{name: "string of an object is its sorted encoding", tmpl: `{"s":"$.body.o | string","i":"x${$.body.o}"}`,
			body: `{"o":{"b":[1, 2],"a":"<"}}`, exp: `{"i":"x{\"a\":\"\\u003c\",\"b\":[1,2]}","s":"{\"a\":\"\\u003c\",\"b\":[1,2]}"}`},
		{name: "arrays by index", tmpl: `{"a":"$.body.m[1][0]","b":"$.body[\"m\"][2].k","c":"$.body.m[3]","d":"$.body.m[007]"}`,
			body: `{"m":[0,["x"],{"k":"v"},null,4,5,6,7]}`, exp: `{"a":"x","b":"v","c":null,"d":7}`},
		{name: "root array", tmpl: `{"a":"$[1]","b":"$.body[0].k"}`, body: `[{"k":1},2]`, exp: `{"a":2,"b":1}`},
		{name: "index of an object is a key", tmpl: `{"a":"$.body.o[0]","b":"$.body[1]"}`, body: `{"o":{"0":"zero"},"1":"one"}`, exp: `{"a":"zero","b":"one"}`},
		{name: "key of an array is missing", tmpl: `{"a":"$.body.m.0","b":"$.body.m[\"0\"]","c":"$.body.m.length"}`, body: `{"m":[1]}`, exp: `{"a":null,"b":null,"c":null}`},
		{name: "missing paths", tmpl: `{"a":"$.body.x","b":"$.body.s.x","c":"$.body.s[0]","d":"$.body.n.x","e":"$.body.z.x","f":"$.body.m[1]"}`,
			body: `{"s":"str","n":1,"z":null,"m":[1]}`, exp: `{"a":null,"b":null,"c":null,"d":null,"e":null,"f":null}`},
		{name: "missing paths with default", tmpl: `{"a":"$.body.x | default(\"d\")","b":"$.body.z | default(0)","c":"$.body.e | default([1])","d":"$.body.m[9].x | default(false)"}`,
			body: `{"z":null,"e":"","m":[]}`, exp: `{"a":"d","b":0,"c":[1],"d":false}`},
		{name: "default keeps objects", tmpl: `{"o":"$.body.o | default(1)"}`, body: `{"o":{}}`, exp: `{"o":{}}`},
		{name: "deep nesting at encoding/json's limit", tmpl: `{"v":"$.body.a.a.a"}`, body: deep(maxDepth), exp: `{"v":{` + strings.Repeat(`"a":{`, maxDepth-4) + `"a":1` + strings.Repeat(`}`, maxDepth-3) + `}`},
		{name: "deep selector", tmpl: `{"v":"$.body` + strings.Repeat(`.a`, 300) + `"}`, body: deep(300), exp: `{"v":1}`},
		{name: "blank body is null", tmpl: `{"b":"$.body","c":"$.body.x"}`, body: " \t\r\n\u00a0", exp: `{"b":null,"c":null}`},
		{name: "spaces after the value", tmpl: `{"b":"$.body.a"}`, body: "{\"a\":1} \n\t\u00a0\u2003", exp: `{"b":1}`},
		{name: "template order and escaping of keys", tmpl: `{"z":1,"<":2,"a":"$.body.a"}`, body: `{"a":"b"}`, exp: `{"\u003c":2,"a":"b","z":1}`},
		{name: "template arrays", tmpl: `["$.body.a",["$.body.o"],{"x":"$.body.a | upper"}]`, body: `{"a":"b","o":{"k":[]}}`, exp: `["b",[{"k":[]}],{"x":"B"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, `{"request":{"body":`+tc.tmpl+`}}`)
			res := h.Do(jsonReq(tc.body))
			require.True(t, res.UpstreamCalled, "status %d %s %v", res.Status, res.Body, h.Logs)
			assert.Equal(t, tc.exp, string(res.Request.Body))
		})
	}
}

func TestMalformedBodies(t *testing.T) {
	tests := []struct{ name, body string }{
		{"truncated", `{"a":`},
		{"missing value", `{"a":}`},
		{"single quotes", `{'a':1}`},
		{"trailing comma", `[1,]`},
		{"leading zero", `{"a":01}`},
		{"NaN", `{"a":NaN}`},
		{"bare word", `tru`},
		{"bad escape", `{"a":"\x"}`},
		{"short unicode escape", `{"a":"\u12"}`},
		{"control character in a string", "{\"a\":\"\n\"}"},
		{"unquoted key", `{a:1}`},
		{"unclosed string", `{"a":"b}`},
		{"unclosed array", `[[1]`},
		{"extra close", `[1]]`},
		{"trailing garbage", `{} x`},
		{"trailing value", `{"a":1} {"a":2}`},
		{"two numbers", `1 2`},
		{"leading non-JSON space", "\u00a0{}"},
		{"trailing NUL", "{}\x00"},
		{"too deep", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)},
		{"too deep objects", strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)},
		{"too deep and unbalanced", strings.Repeat("[", maxDepth+5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeJSON([]byte(tc.body))
			require.Error(t, err, "encoding/json accepts it")
			h := plugintest.New(t, `{"request":{"body":{"u":"$.body.a"}}}`)
			res := h.Do(jsonReq(tc.body))
			assert.False(t, res.UpstreamCalled)
			assert.Equal(t, 400, res.Status)
			assert.Equal(t, `{"message":"Malformed JSON in request body"}`, string(res.Body))
		})
	}
}

func TestResponseBodySelectors(t *testing.T) {
	tests := []struct{ name, cfg, upBody, exp string }{
		{name: "fields", cfg: `{"body":{"n":"$.body.items[0].n","all":"$.body.items"}}`, upBody: `{"items":[{"n":1E2, "x":"<"}]}`, exp: `{"all":[{"n":1E2,"x":"\u003c"}],"n":1E2}`},
		{name: "text", cfg: `{"body":{"raw":"$.body","x":"$.body.x"}}`, upBody: `<p>a & b</p>`, exp: `{"raw":"\u003cp\u003ea \u0026 b\u003c/p\u003e","x":null}`},
		{name: "trailing garbage is text", cfg: `{"body":{"raw":"$.body"}}`, upBody: `{} x`, exp: `{"raw":"{} x"}`},
		{name: "empty", cfg: `{"body":{"raw":"$.body"}}`, upBody: ``, exp: `{"raw":null}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, `{"response":`+tc.cfg+`}`)
			h.Upstream = plugintest.Upstream{Status: 200, Body: []byte(tc.upBody)}
			res := h.Do(jsonReq(``))
			assert.Equal(t, 200, res.Status)
			assert.Equal(t, tc.exp, string(res.Body))
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct{ name, tmpl, body, expLog string }{
		{name: "number of an object", tmpl: `{"n":"$.body.o | number"}`, body: `{"o":{}}`,
			expLog: `transform request.body: evaluate template: "$.body.o | number": number: cannot convert an object to a number`},
		{name: "bool of an array", tmpl: `{"n":"$.body.o | bool"}`, body: `{"o":[]}`,
			expLog: `transform request.body: evaluate template: "$.body.o | bool": bool: cannot convert an array to a boolean`},
		{name: "a number json.Marshal rejects", tmpl: `{"n":"$.body.s | number"}`, body: `{"s":"NaN"}`,
			expLog: `transform request.body: json: invalid number literal "NaN"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.New(t, `{"request":{"body":`+tc.tmpl+`}}`)
			res := h.Do(jsonReq(tc.body))
			assert.Equal(t, 500, res.Status)
			require.NotEmpty(t, h.Logs)
			assert.Equal(t, tc.expLog, h.Logs[0].Message)
		})
	}
}

// decodedSelect is how a selector read the body before gjson: decode the
// whole body with encoding/json, then walk it.
func decodedSelect(body string, steps []step) (any, error) {
	if strings.TrimSpace(body) == "" {
		return nil, nil
	}
	v, err := decodeJSON([]byte(body))
	if err != nil {
		return nil, err
	}
	for _, st := range steps {
		switch c := v.(type) {
		case map[string]any:
			v = c[st.key]
		case []any:
			i, _ := strconv.Atoi(st.key)
			if !st.isIdx || i >= len(c) {
				return nil, nil
			}
			v = c[i]
		default:
			return nil, nil
		}
	}
	return v, nil
}

var fuzzSelectors = []string{"$.body", "$.body.a", "$.body.a.b", "$.body[0]", "$.body.a[1]", "$.body[\"a.b\"]", "$.body.a[0].b", "$.body[1].a"}

// checkSelect compares gjson selection with decodedSelect for body: the
// same bodies are malformed, scalars are the same values and objects and
// arrays the same JSON once decoded. It checks well-formedness both ways:
// in the guest (gjson.ValidBytes) and on the host (json_validate, which
// plugintest runs with the gateway's code).
func checkSelect(t *testing.T, body string) {
	t.Run("guest", func(t *testing.T) {
		anyJSON = nil
		checkSelectNow(t, body)
	})
	t.Run("host", func(t *testing.T) {
		h := plugintest.NewUnconfigured(t, `{"request":{"body":{"a":"$.body.a"}}}`)
		h.NoJSONSelect = true // the guest scans, after the host's well-formedness check
		require.NoError(t, h.Configure())
		require.NotNil(t, anyJSON, "a template reading the body without json_select compiles the host's JSON check")
		checkSelectNow(t, body)
	})
	t.Run("json_select", func(t *testing.T) {
		plugintest.New(t, `{"request":{"body":{"a":"$.body.a"}}}`)
		checkSelectNow(t, body, true)
	})
}

// checkSelectNow fills the scope with bodyScope, or with json_select
// (side.scope) when hostSelect.
func checkSelectNow(t *testing.T, body string, hostSelect ...bool) {
	var exprs []*expr
	var keys []string
	var items []*node
	for _, s := range fuzzSelectors {
		e, err := parseExpr(s)
		require.NoError(t, err)
		exprs = append(exprs, e)
		items = append(items, &node{kind: nExpr, ex: e})
		if len(e.steps) > 0 {
			keys = append(keys, e.steps[0].key)
		}
	}
	var sd *side
	if len(hostSelect) > 0 {
		sd = &side{body: &node{kind: nArray, items: items}, bodyKeys: keys}
		sd.sel = hostSelector(sd.body)
		require.NotNil(t, sd.sel, "every fuzz selector maps to a JSON Pointer")
	}
	for _, ks := range [][]string{keys, nil} { // found by bodyScope's pass, or looked up
		sc := &scope{}
		var err error
		if sd != nil {
			err = sd.scope(sc, []byte(body))
		} else {
			err = bodyScope(sc, []byte(body), ks)
		}
		for _, e := range exprs {
			want, wantErr := decodedSelect(body, e.steps)
			if wantErr != nil || err != nil {
				require.Equal(t, wantErr != nil, err != nil, "malformed: encoding/json %v, gjson %v", wantErr, err)
				return
			}
			got := e.selectBody(sc)
			if raw, ok := got.(json.RawMessage); ok {
				require.True(t, json.Valid(raw), "%s: %q", e.text, raw)
				w, _ := json.Marshal(want)
				require.Equal(t, string(w), toString(got), e.text)
				d, err := decodeJSON(raw)
				require.NoError(t, err)
				require.Equal(t, want, d, e.text)
				continue
			}
			require.Equal(t, want, got, e.text)
		}
	}
}

var bodySeeds = []string{
	``, ` `, `null`, `1`, `-0.0e+1`, `"s"`, `{}`, `[]`, `{"a":1}`, `{"a":{"b":[1,2]},"a":{"b":3}}`,
	`[{"a":1},{"a":{"b":null}}]`, `{"a.b":true,"a":[{"b":"x"},1]}`, `{"a":"\ud800\u00e9\"\\"}`, "{\"a\":\"\xff\"}",
	`{"a":1}x`, `{"a":1,}`, `[01]`, `{"a" 1}`, "\t[1]\n\u00a0", "\u00a0[1]", `{"\u0061":2}`, `[1,[2,[3,{"a":[4]}]]]`,
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`["\"[`, maxDepth+1),
}

func TestSelectLikeDecoding(t *testing.T) {
	for _, b := range bodySeeds {
		checkSelect(t, b)
	}
}

func FuzzSelectLikeDecoding(f *testing.F) {
	for _, b := range bodySeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) { checkSelect(t, body) })
}

// FuzzAppendJSON checks the JSON writers against encoding/json.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"", "a", `"\<>&`, "\u2028\u2029", "\x00\x1f\x7f", "\xff\xfe", "é😀", `{"a": [1, "<"]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendJSONString(nil, s)))
	})
}

// TestHostSelectorEligibility: a key that looks like an array index stays in
// the guest, where it never indexes an array.
func TestHostSelectorEligibility(t *testing.T) {
	plugintest.New(t, `{"request":{"body":{"a":"$.body.a"}}}`)
	for _, tc := range []struct {
		sel, ptr string
		exact    bool
	}{
		{`$.body`, ``, true},
		{`$.body.a.b`, `/a/b`, true},
		{`$.body.items[0]`, `/items/0`, true},
		{`$.body["a/b~c"]`, `/a~1b~0c`, true},
		{`$.body.items.0`, ``, false},
		{`$.body["0"]`, ``, false},
		{`$.body["01"]`, `/01`, true},
	} {
		e, err := parseExpr(tc.sel)
		require.NoError(t, err)
		p, exact := e.pointer()
		assert.Equal(t, tc.exact, exact, tc.sel)
		if exact {
			assert.Equal(t, tc.ptr, p, tc.sel)
		}
		sel := hostSelector(&node{kind: nExpr, ex: e})
		assert.Equal(t, tc.exact, sel != nil, tc.sel)
	}
}
