package schema

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

// fastSchemas use only what the fast path implements.
var fastSchemas = []string{
	`{"type":"object","required":["item","quantity"],"additionalProperties":false,
	  "properties":{"item":{"type":"string","minLength":1,"maxLength":4},"quantity":{"type":"integer","minimum":1,"maximum":1000},
	  "note":{"type":"string","pattern":"^[a-z ]*$"},"tags":{"type":"array","items":{"type":"string"},"uniqueItems":true,"maxItems":3}}}`,
	`{"type":["string","null"],"enum":["a","b"]}`,
	`{"type":"array","minItems":1,"items":{"type":"object","additionalProperties":{"type":"number","exclusiveMaximum":10,"exclusiveMinimum":-10}}}`,
	`{"type":"object","minProperties":1,"maxProperties":2,"properties":{"a":true,"b":{"type":"boolean"}}}`,
	`{"type":"string","enum":["x","\u00e9"]}`,
	`{"type":"integer","maximum":9007199254740992}`,
	`{"properties":{"n":{"type":"number"},"i":{"type":"integer"}}}`,
	`{"items":{"items":{"type":"integer","minimum":0}}}`,
	`true`,
}

// fastDocs are documents for those schemas, valid and invalid.
var fastDocs = []string{
	`{"item":"book","quantity":3}`, `{"item":"book","quantity":3,"tags":["a","b","c"]}`, `{"item":"book","quantity":3,"tags":["a","a"]}`,
	`{"item":"book","quantity":3,"tags":["a","\u0061"]}`, `{"item":"","quantity":3}`, `{"item":"日本語","quantity":3}`,
	`{"item":"books","quantity":3}`, `{"item":"b","quantity":3.0}`, `{"item":"b","quantity":1e2}`, `{"item":"b","quantity":0}`,
	`{"item":"b","quantity":1000}`, `{"item":"b","quantity":1001}`, `{"item":"b","quantity":-0}`, `{"item":"b","quantity":3,"x":1}`,
	`{"item":"b"}`, `{"item":"b","quantity":3,"item":"c"}`, `{"item":"b","quantity":3,"note":"ok then"}`, `{"item":"b","quantity":3,"note":"No"}`,
	`"a"`, `null`, `"c"`, `1`, `"x"`, `"é"`, `"\u00e9"`, `[]`, `[{}]`, `[{"a":9}]`, `[{"a":10}]`, `[{"a":-10}]`, `[{"a":9.5}]`,
	`{"a":1}`, `{"a":1,"b":true}`, `{"a":1,"b":1}`, `{}`, `{"a":1,"b":true,"c":null}`,
	`9007199254740992`, `9007199254740993`, `99999999999999999999`, `1.0`, `{"n":1.5,"i":2}`, `{"n":1,"i":2.5}`,
	`[[0,1],[2]]`, `[[0,-1]]`, `[[0],"x"]`, `{"item":"b","quantity":3} x`, `{"item":`, "\"\xff\"", `[1,2`, ` {"item":"b","quantity":3} `,
}

func compileFast(t testing.TB, src string) *Schema {
	t.Helper()
	s, err := Compile([]byte(src), abi.SchemaDraftDefault)
	require.NoError(t, err)
	return s
}

// fullValid is the library's verdict alone.
func fullValid(s *Schema, doc []byte) bool {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	return err == nil && s.full.Validate(v) == nil
}

// TestFastPathAgrees: for every pair, the fast path says valid only when the
// library does, and it does decide the plain valid cases itself.
func TestFastPathAgrees(t *testing.T) {
	decided := 0
	for _, src := range fastSchemas {
		s := compileFast(t, src)
		require.True(t, s.fastOK, "schema %s should have a fast path", src)
		for _, doc := range fastDocs {
			fast := fastValid(s.fast, []byte(doc))
			full := fullValid(s, []byte(doc))
			if fast {
				decided++
				assert.True(t, full, "fast path accepted what the validator rejects: schema %s doc %s", src, doc)
			}
			assert.Equal(t, full, Validate(s, []byte(doc)) == nil, "Validate disagrees with the validator: schema %s doc %s", src, doc)
		}
	}
	assert.Greater(t, decided, 40, "the fast path should decide most valid documents")
}

func TestFastPathEligibility(t *testing.T) {
	for _, tc := range []struct {
		src string
		exp bool
	}{
		{`{"type":"object"}`, true},
		{`{"$defs":{"a":{"type":"string"}},"$ref":"#/$defs/a"}`, false},
		{`{"anyOf":[{"type":"string"}]}`, false},
		{`{"type":"number","maximum":1.5}`, false},
		{`{"type":"array","items":{"type":"integer"},"uniqueItems":true}`, false},
		{`{"enum":[1,2]}`, false},
		{`{"const":"a"}`, false},
		{`{"patternProperties":{"^a":{}}}`, false},
		{`{"type":"number","multipleOf":2}`, false},
		{`{"properties":{"a":{"not":{}}}}`, false},
		{`false`, false},
		{`{"enum":["a",null]}`, false},
		{`{"title":"t","description":"d","default":1,"examples":[1],"$comment":"c","format":"email"}`, true},
	} {
		assert.Equal(t, tc.exp, compileFast(t, tc.src).fastOK, tc.src)
	}
	s, err := Compile([]byte(`{"type":"object","properties":{"a":{"type":"number"}}}`), abi.SchemaDraft4)
	require.NoError(t, err)
	assert.True(t, s.fastOK, "draft 4 schemas use the fast path too")
}

func TestFastPathDepth(t *testing.T) {
	s := compileFast(t, `{"type":"array"}`)
	deep := bytes.Repeat([]byte("["), 300)
	deep = append(deep, bytes.Repeat([]byte("]"), 300)...)
	assert.False(t, fastValid(s.fast, deep), "deep documents go to the validator")
	assert.Nil(t, Validate(s, deep))
}

// FuzzFastPath: whatever the document, the fast path never accepts what the
// library rejects.
func FuzzFastPath(f *testing.F) {
	for i, d := range fastDocs {
		f.Add(uint8(i), []byte(d))
	}
	schemas := make([]*Schema, len(fastSchemas))
	for i, src := range fastSchemas {
		schemas[i] = compileFast(f, src)
	}
	f.Fuzz(func(t *testing.T, pick uint8, doc []byte) {
		s := schemas[int(pick)%len(schemas)]
		if s.fastOK && fastValid(s.fast, doc) && !fullValid(s, doc) {
			t.Fatalf("fast path accepted %q, which the validator rejects (schema %d)", doc, int(pick)%len(schemas))
		}
	})
}
