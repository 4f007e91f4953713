package router

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	rt, err := New([]Route{
		{Method: "GET", Path: "/users/{id}/files/{proxy+}"},
		{Method: "GET", Path: "/orders/{id}"},
	})
	require.NoError(t, err)
	tests := []struct {
		name     string
		path     string
		template string
		exp      string
	}{
		{name: "no placeholders", path: "/orders/1", template: "/internal/orders", exp: "/internal/orders"},
		{name: "param", path: "/orders/1", template: "/internal/orders/{id}", exp: "/internal/orders/1"},
		{name: "param twice", path: "/orders/1", template: "/{id}/{id}", exp: "/1/1"},
		{name: "greedy as proxy", path: "/users/7/files/a/b/", template: "/v2/{id}/{proxy}", exp: "/v2/7/a/b/"},
		{name: "greedy as proxy+", path: "/users/7/files/a/b", template: "/v2/{proxy+}", exp: "/v2/a/b"},
		{name: "encoded value forwarded as is", path: "/orders/caf%C3%A9", template: "/o/{id}", exp: "/o/caf%C3%A9"},
		{name: "inside a segment", path: "/orders/1", template: "/o/id-{id}.json", exp: "/o/id-1.json"},
		{name: "unknown placeholder kept", path: "/orders/1", template: "/o/{nope}/{id}", exp: "/o/{nope}/1"},
		{name: "unclosed brace kept", path: "/orders/1", template: "/o/{id}/{x", exp: "/o/1/{x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Params
			_, res := rt.Match("GET", "", tc.path, &p)
			require.Equal(t, Matched, res)
			assert.Equal(t, tc.exp, Expand(tc.template, &p))
		})
	}
}

func TestExpandEmptyParams(t *testing.T) {
	var p Params
	assert.Equal(t, "/a/{id}", Expand("/a/{id}", &p))
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		exp    string
		expErr string
	}{
		{name: "plain", in: "abc", exp: "abc"},
		{name: "utf-8", in: "caf%C3%A9", exp: "café"},
		{name: "space", in: "a%20b", exp: "a b"},
		{name: "plus is not space", in: "a+b", exp: "a+b"},
		{name: "bad escape", in: "a%zz", expErr: `unescape parameter value: invalid URL escape "%zz"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Unescape(tc.in)
			if tc.expErr != "" {
				assert.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, got)
		})
	}
}

func TestParamsReset(t *testing.T) {
	rt, err := New([]Route{{Method: "GET", Path: "/{a}/{b}"}})
	require.NoError(t, err)
	var p Params
	_, res := rt.Match("GET", "", "/x/y", &p)
	require.Equal(t, Matched, res)
	require.Equal(t, 2, p.Len())
	p.Reset()
	assert.Zero(t, p.Len())
	_, ok := p.Get("a")
	assert.False(t, ok)
	assert.Empty(t, p.values[0], "Reset must drop references into the old path")
	assert.Panics(t, func() { p.Name(0) })
	assert.Panics(t, func() { p.Value(0) })
}
