package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

func TestJSONToXML(t *testing.T) {
	tests := []struct {
		name, in, exp, expErr string
	}{
		{name: "one-key object is the root", in: `{"order":{"id":7,"item":"book"}}`, exp: `<order><id>7</id><item>book</item></order>`},
		{name: "attributes and text", in: `{"price":{"@currency":"EUR","#text":"9.50"}}`, exp: `<price currency="EUR">9.50</price>`},
		{name: "arrays repeat the element", in: `{"order":{"tag":["a","b"]}}`, exp: `<order><tag>a</tag><tag>b</tag></order>`},
		{name: "other values wrapped in root", in: `{"a":1,"b":true}`, exp: `<root><a>1</a><b>true</b></root>`},
		{name: "top-level array", in: `[1,2]`, exp: `<root>1</root><root>2</root>`},
		{name: "null is empty", in: `{"a":{"b":null}}`, exp: `<a><b/></a>`},
		{name: "escaping", in: `{"a":{"@q":"\"<&>","#text":"<x> & y"}}`, exp: `<a q="&#34;&lt;&amp;&gt;">&lt;x&gt; &amp; y</a>`},
		{name: "unicode", in: `{"名前":"日本 📚"}`, exp: `<名前>日本 📚</名前>`},
		{name: "big number kept", in: `{"n":123456789012345678901234567890}`, exp: `<n>123456789012345678901234567890</n>`},
		{name: "namespaced name", in: `{"soap:Envelope":{"@xmlns:soap":"http://schemas.xmlsoap.org/soap/envelope/","soap:Body":""}}`,
			exp: `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body></soap:Body></soap:Envelope>`},
		{name: "bad name", in: `{"1a":1}`, expErr: `key "1a" is not a valid XML element name`},
		{name: "malformed", in: `{"a":`, expErr: "unexpected EOF"},
		{name: "trailing data", in: `{} x`, expErr: "unexpected data after the JSON value"},
	}
	o := options{attrPrefix: "@", textKey: "#text", root: "root"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := jsonToXML([]byte(tc.in), o)
			if tc.expErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+tc.exp, string(out))
		})
	}
}

func TestXMLToJSON(t *testing.T) {
	tests := []struct {
		name, in, exp, expErr string
	}{
		{name: "elements", in: `<order><id>7</id><item>book</item></order>`, exp: `{"order":{"id":"7","item":"book"}}`},
		{name: "declaration and whitespace", in: "<?xml version=\"1.0\"?>\n<a>\n  <b>x</b>\n</a>\n", exp: `{"a":{"b":"x"}}`},
		{name: "attributes and text", in: `<price currency="EUR">9.50</price>`, exp: `{"price":{"@currency":"EUR","#text":"9.50"}}`},
		{name: "repeated elements are arrays", in: `<o><tag>a</tag><x/><tag>b</tag></o>`, exp: `{"o":{"tag":["a","b"],"x":null}}`},
		{name: "empty element is null", in: `<a/>`, exp: `{"a":null}`},
		{name: "namespaces use local names", in: `<s:Envelope xmlns:s="urn:s"><s:Body><m xmlns="urn:m">1</m></s:Body></s:Envelope>`, exp: `{"Envelope":{"Body":{"m":"1"}}}`},
		{name: "entities and CDATA", in: `<a>&lt;x&gt; <![CDATA[& y]]></a>`, exp: `{"a":"<x> & y"}`},
		{name: "unicode", in: `<名前>日本 📚</名前>`, exp: `{"名前":"日本 📚"}`},
		{name: "deep nesting", in: strings.Repeat("<a>", 100) + "1" + strings.Repeat("</a>", 100), exp: strings.Repeat(`{"a":`, 100) + `"1"` + strings.Repeat("}", 100)},
		{name: "malformed", in: `<a><b></a>`, expErr: "element <b> closed by </a>"},
		{name: "two roots", in: `<a/><b/>`, expErr: "more than one root element"},
		{name: "empty", in: ``, expErr: "no root element"},
		{name: "text only", in: `hello`, expErr: "text outside the root element"},
	}
	o := options{attrPrefix: "@", textKey: "#text", root: "root"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := xmlToJSON([]byte(tc.in), o)
			if tc.expErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tc.exp, string(out))
		})
	}
}

func TestPlugin(t *testing.T) {
	t.Run("request json-to-xml", func(t *testing.T) {
		h := plugintest.New(t, `{"request":"json-to-xml"}`)
		res := h.Do(&plugintest.Request{Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"a":{"@id":"1"}}`)})
		require.True(t, res.UpstreamCalled)
		assert.Contains(t, string(res.Request.Body), `<a id="1"></a>`)
		assert.Equal(t, "application/xml; charset=utf-8", res.Request.Header.Get("Content-Type"))
	})
	t.Run("request malformed is 400", func(t *testing.T) {
		h := plugintest.New(t, `{"request":"xml-to-json"}`)
		res := h.Do(&plugintest.Request{Method: "POST", Header: http.Header{"Content-Type": {"text/xml"}}, Body: []byte(`<a>`)})
		assert.Equal(t, 400, res.Status)
		assert.False(t, res.UpstreamCalled)
		assert.JSONEq(t, `{"message":"Malformed XML in request body: XML syntax error on line 1: unexpected EOF"}`, string(res.Body))
	})
	t.Run("request wrong type is 415", func(t *testing.T) {
		h := plugintest.New(t, `{"request":"xml-to-json"}`)
		res := h.Do(&plugintest.Request{Method: "POST", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{}`)})
		assert.Equal(t, 415, res.Status)
	})
	t.Run("response xml-to-json", func(t *testing.T) {
		h := plugintest.New(t, `{"response":"xml-to-json"}`)
		h.Upstream = plugintest.Upstream{Status: 200, Header: http.Header{"Content-Type": {"application/soap+xml"}}, Body: []byte(`<r><v>1</v></r>`)}
		res := h.Do(&plugintest.Request{})
		assert.JSONEq(t, `{"r":{"v":"1"}}`, string(res.Body))
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	})
	t.Run("response JSON error left alone", func(t *testing.T) {
		h := plugintest.New(t, `{"response":"xml-to-json"}`)
		h.Upstream = plugintest.Upstream{Status: 502, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"message":"Bad gateway"}`)}
		res := h.Do(&plugintest.Request{})
		assert.Equal(t, `{"message":"Bad gateway"}`, string(res.Body))
	})
}

func TestConfig(t *testing.T) {
	tests := []struct{ name, in, expErr string }{
		{name: "empty", in: `{}`, expErr: `nothing to convert; set request or response to "json-to-xml" or "xml-to-json"`},
		{name: "bad direction", in: `{"request":"xml"}`, expErr: `direction "xml" is not supported; use "json-to-xml" or "xml-to-json"`},
		{name: "bad root", in: `{"request":"json-to-xml","root":"1x"}`, expErr: `root 1x is not a valid XML element name`},
		{name: "ok", in: `{"response":"json-to-xml","root":"doc"}`},
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

// TestPhases: only the converted direction's body is buffered.
func TestPhases(t *testing.T) {
	for _, tc := range []struct {
		cfg string
		exp uint32
	}{
		{`{"request":"json-to-xml"}`, abi.PhaseRequestBody},
		{`{"response":"xml-to-json"}`, abi.PhaseResponseBody},
		{`{"request":"xml-to-json","response":"json-to-xml"}`, abi.PhaseRequestBody | abi.PhaseResponseBody},
	} {
		t.Run(tc.cfg, func(t *testing.T) {
			assert.Equal(t, tc.exp, plugintest.New(t, tc.cfg).Phases())
		})
	}
}
