package schema

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		draft     int32
		expErr    string
	}{
		{"unknown draft", `{}`, 5, "unknown draft code 5"},
		{"not json", `{"type":`, 0, "schema is not valid JSON"},
		{"bad keyword value", `{"type":"strin"}`, 0, "compile schema:"},
		{"relative ref", `{"$ref":"other.json"}`, 0, "mem://plugin/other.json is outside the schema"},
		{"file ref", `{"$ref":"file:///etc/passwd"}`, 0, "file:///etc/passwd is outside the schema"},
		{"http ref", `{"$ref":"http://127.0.0.1:1/x.json"}`, 0, "http://127.0.0.1:1/x.json is outside the schema"},
		{"missing local ref", `{"$ref":"#/$defs/nope"}`, 0, "compile schema:"},
		{"draft 4 rejects 2020 form", `{"exclusiveMaximum":5}`, abi.SchemaDraft4, "compile schema:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.src), tc.draft)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.expErr)
		})
	}
}

func TestValidate(t *testing.T) {
	order := `{"type":"object","required":["item"],"additionalProperties":false,
		"properties":{"item":{"type":"string","maxLength":3},"n":{"type":"integer","minimum":1},
		"tags":{"type":"array","items":{"type":"string"},"uniqueItems":true}}}`
	for _, tc := range []struct {
		name, schema, doc string
		draft             int32
		exp               []Error
	}{
		{name: "valid", schema: order, doc: `{"item":"abc","n":2,"tags":["a","b"]}`},
		{name: "runes, not bytes", schema: order, doc: `{"item":"日本語"}`},
		{name: "two leaves", schema: order, doc: `{"item":"abcd","n":0}`, exp: []Error{
			{"/item", "maxLength: got 4, want 3"}, {"/n", "minimum: got 0, want 1"}}},
		{name: "missing", schema: order, doc: `{}`, exp: []Error{{"", "missing property 'item'"}}},
		{name: "duplicate", schema: order, doc: `{"item":"a","tags":["x","x"]}`, exp: []Error{{"/tags", "items at 0 and 1 are equal"}}},
		{name: "malformed", schema: order, doc: `{"item":`, exp: []Error{{"", "malformed JSON: unexpected EOF"}}},
		{name: "trailing data", schema: order, doc: `{"item":"a"} {}`, exp: []Error{{"", "malformed JSON: invalid character after top-level value"}}},
		{name: "big integer exact", schema: `{"maximum":18446744073709551615}`, doc: `18446744073709551616`, exp: []Error{{"", "maximum: got 1.8446744073709552×10¹⁹, want 1.8446744073709552×10¹⁹"}}},
		{name: "big integer at max", schema: `{"maximum":18446744073709551615}`, doc: `18446744073709551615`},
		{name: "draft 6 by code", schema: `{"exclusiveMaximum":10}`, draft: abi.SchemaDraft6, doc: `10`, exp: []Error{{"", "exclusiveMaximum: got 10, want 10"}}},
		{name: "false schema", schema: `false`, doc: `1`, exp: []Error{{"", "false schema"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sch, err := Compile([]byte(tc.schema), tc.draft)
			require.NoError(t, err)
			assert.Equal(t, tc.exp, Validate(sch, []byte(tc.doc)))
		})
	}
}

func TestValidateCapsErrors(t *testing.T) {
	sch, err := Compile([]byte(`{"type":"array","items":{"type":"string"}}`), 0)
	require.NoError(t, err)
	doc := "[" + strings.TrimSuffix(strings.Repeat("1,", 200), ",") + "]"
	errs := Validate(sch, []byte(doc))
	assert.Len(t, errs, MaxErrors)
	assert.Equal(t, Error{"/0", "got number, want string"}, errs[0])
}

func TestAppendErrors(t *testing.T) {
	b := AppendErrors([]byte("x"), []Error{{"/a", "bad"}, {"", "nul \x00 here"}})
	assert.Equal(t, "x/a\x00bad\x00\x00nul \uFFFD here\x00", string(b))
}

func TestCache(t *testing.T) {
	c := NewCache(2)
	a1, err := c.Compile([]byte(`{"type":"string"}`), 0)
	require.NoError(t, err)
	a2, err := c.Compile([]byte(`{"type":"string"}`), 0)
	require.NoError(t, err)
	assert.Same(t, a1, a2, "the same text compiles once")
	d7, err := c.Compile([]byte(`{"type":"string"}`), abi.SchemaDraft7)
	require.NoError(t, err)
	assert.NotSame(t, a1, d7, "the draft is part of the key")
	_, err = c.Compile([]byte(`{"type":`), 0)
	require.Error(t, err, "failures are reported every time")
	x1, err := c.Compile([]byte(`{"type":"integer"}`), 0)
	require.NoError(t, err)
	x2, err := c.Compile([]byte(`{"type":"integer"}`), 0)
	require.NoError(t, err)
	assert.NotSame(t, x1, x2, "past its cap the cache compiles without keeping")
	assert.Len(t, c.m, 2)
}

// order2K is the 2 KiB order the load benchmark POSTs (cmd/loadbench).
func order2K(b *testing.B) []byte {
	doc, err := os.ReadFile("../../cmd/loadbench/testdata/order2k.json")
	require.NoError(b, err)
	return doc
}

// BenchmarkValidate2K is the host side of json_validate for the 2 KiB order
// (173 tags), parse plus validation: against its schema, and against the
// schema true, a well-formedness check (transform uses it).
func BenchmarkValidate2K(b *testing.B) {
	doc := order2K(b)
	for _, tc := range []struct{ name, schema string }{
		{"order", `{"type":"object","required":["item","quantity"],"additionalProperties":false,
			"properties":{"item":{"type":"string","minLength":1,"maxLength":64},"quantity":{"type":"integer","minimum":1,"maximum":1000},
			"note":{"type":"string"},"tags":{"type":"array","items":{"type":"string"},"uniqueItems":true}}}`},
		{"true", `true`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sch, err := Compile([]byte(tc.schema), 0)
			require.NoError(b, err)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if errs := Validate(sch, doc); errs != nil {
					b.Fatal(errs)
				}
			}
		})
	}
}

func TestTable(t *testing.T) {
	tb := NewTable(NewCache(abi.MaxSchemas))
	assert.Equal(t, abi.ResultInvalid, tb.Compile([]byte(`{"type":`), 0))
	assert.Contains(t, tb.LastError(), "schema is not valid JSON")
	id := tb.Compile([]byte(`{"type":"string"}`), 0)
	assert.Equal(t, int32(0), id)
	assert.Empty(t, tb.LastError(), "a success clears the last error")
	rc, out := tb.Validate(id, []byte(`1`))
	assert.Equal(t, "\x00got number, want string\x00", string(out))
	assert.Equal(t, int32(len(out)), rc)
	rc, out = tb.Validate(id, []byte(`"s"`))
	assert.Zero(t, rc)
	assert.Nil(t, out)
	rc, _ = tb.Validate(7, []byte(`1`))
	assert.Equal(t, abi.ResultNotFound, rc)
	for i := 1; i < abi.MaxSchemas; i++ {
		require.Equal(t, int32(i), tb.Compile([]byte(`true`), 0))
	}
	assert.Equal(t, abi.ResultTooLarge, tb.Compile([]byte(`true`), 0))
	assert.Equal(t, "an instance may compile at most 64 schemas", tb.LastError())
}
