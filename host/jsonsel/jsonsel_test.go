package jsonsel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptrs(t testing.TB, ss ...string) []Pointer {
	out := make([]Pointer, len(ss))
	for i, s := range ss {
		p, err := ParsePointer(s)
		require.NoError(t, err, s)
		out[i] = p
	}
	return out
}

func TestSelect(t *testing.T) {
	doc := ` {"a":{"b":[10,{"c":"x"}],"a/b":1,"m~n":2},"s":"\u00e9\"","n":-1.5e3,"t":true,"z":null,"0":"key zero"} `
	for _, tc := range []struct {
		ptr string
		exp string // "<nil>": nothing selected
	}{
		{"", strings.TrimSpace(doc)},
		{"/a/b", `[10,{"c":"x"}]`},
		{"/a/b/0", `10`},
		{"/a/b/1/c", `"x"`},
		{"/a/b/2", "<nil>"},
		{"/a/b/01", "<nil>"},
		{"/a/b/-", "<nil>"},
		{"/a/a~1b", `1`},
		{"/a/m~0n", `2`},
		{"/s", `"\u00e9\""`},
		{"/n", `-1.5e3`},
		{"/t", `true`},
		{"/z", `null`},
		{"/0", `"key zero"`},
		{"/missing", "<nil>"},
		{"/s/x", "<nil>"},
		{"/a/b/1/c/d", "<nil>"},
	} {
		t.Run(tc.ptr, func(t *testing.T) {
			out, err := Select([]byte(doc), ptrs(t, tc.ptr))
			require.NoError(t, err)
			if tc.exp == "<nil>" {
				assert.Nil(t, out[0])
			} else {
				assert.Equal(t, tc.exp, string(out[0]))
			}
		})
	}
}

func TestSelectManyAndRepeats(t *testing.T) {
	out, err := Select([]byte(`{"a":{"b":1},"c":2,"a":{"x":3}}`), ptrs(t, "/a/b", "/a/x", "/a", "/c"))
	require.NoError(t, err)
	assert.Nil(t, out[0], "the repeated member replaces the first one whole, as encoding/json reads it")
	assert.Equal(t, "3", string(out[1]))
	assert.Equal(t, `{"x":3}`, string(out[2]))
	assert.Equal(t, "2", string(out[3]))
}

func TestSelectMalformed(t *testing.T) {
	for _, doc := range []string{``, ` `, `{`, `{"a":1,}`, `[01]`, `{"a" 1}`, `{} x`, `{}{}`, `"\x01"`, `nul`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		_, err := Select([]byte(doc), ptrs(t, "/a"))
		assert.ErrorIs(t, err, ErrMalformed, "%q", doc)
	}
	out, err := Select([]byte(strings.Repeat("[", 10000)+strings.Repeat("]", 10000)), ptrs(t, "/0/0"))
	require.NoError(t, err, "10000 levels is encoding/json's limit, still allowed")
	assert.Equal(t, strings.Repeat("[", 9998)+strings.Repeat("]", 9998), string(out[0]))
	out, err = Select([]byte("{\"a\":\"\xff\"}"), ptrs(t, "/a"))
	require.NoError(t, err, "invalid UTF-8 inside a string is accepted, as encoding/json does")
	assert.Equal(t, "\"\xff\"", string(out[0]))
}

func TestParsePointer(t *testing.T) {
	p, err := ParsePointer("/a~1b/~0/")
	require.NoError(t, err)
	assert.Equal(t, Pointer{"a/b", "~", ""}, p)
	for _, bad := range []string{"a", "/~2", "/~"} {
		_, err := ParsePointer(bad)
		assert.Error(t, err, bad)
	}
}

// decodedSelect is what Select should find: decode doc with encoding/json
// and walk it.
func decodedSelect(doc []byte, p Pointer) (any, bool, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false, err
	}
	if len(bytes.Trim(doc[d.InputOffset():], " \t\r\n")) > 0 {
		return nil, false, fmt.Errorf("trailing data")
	}
	for _, tok := range p {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[tok]; !ok {
				return nil, false, nil
			}
		case []any:
			i, ok := index(tok)
			if !ok || i >= len(c) {
				return nil, false, nil
			}
			v = c[i]
		default:
			return nil, false, nil
		}
	}
	return v, true, nil
}

// FuzzSelect: Select agrees with decoding the document with encoding/json:
// the same documents are malformed and the same values are selected.
func FuzzSelect(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,{"c":2}]}}`, `{"a":1,"a":{"b":2}}`, `[1,[2,[3]]]`, `{"0":[0]}`, `{"a":"\u00e9"}`, `{"a":1} x`, `"s"`, `{"a":{"b":1},"a":{"c":2}}`} {
		f.Add(s, "/a/b")
	}
	f.Fuzz(func(t *testing.T, doc, ptr string) {
		if !strings.HasPrefix(ptr, "/") {
			ptr = "/" + ptr
		}
		p, err := ParsePointer(ptr)
		if err != nil {
			return
		}
		want, found, werr := decodedSelect([]byte(doc), p)
		out, err := Select([]byte(doc), []Pointer{p, {}})
		if werr != nil {
			if err == nil {
				t.Fatalf("encoding/json rejects %q (%v), Select does not", doc, werr)
			}
			return
		}
		require.NoError(t, err, "encoding/json decodes %q", doc)
		require.Equal(t, found, out[0] != nil, "found %q in %q", ptr, doc)
		if found {
			d := json.NewDecoder(bytes.NewReader(out[0]))
			d.UseNumber()
			var got any
			require.NoError(t, d.Decode(&got))
			require.Equal(t, want, got)
		}
	})
}

func BenchmarkSelect2K(b *testing.B) {
	doc, err := os.ReadFile("../../cmd/loadbench/testdata/order2k.json") // the load benchmark's body
	require.NoError(b, err)
	ps := ptrs(b, "/item", "/quantity")
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Select(doc, ps); err != nil {
			b.Fatal(err)
		}
	}
}
