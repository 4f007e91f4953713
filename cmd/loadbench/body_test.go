package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrder2K checks testdata/order2k.json is the order of body2K in
// plugins/request-validator: valid for validation.hcl's schema, about 2 KiB,
// and with no newline the gateway would have to read too.
func TestOrder2K(t *testing.T) {
	b, err := readBody(builtinPrefix + "order2k.json")
	require.NoError(t, err)
	onDisk, err := os.ReadFile(filepath.Join("testdata", "order2k.json"))
	require.NoError(t, err)
	assert.Equal(t, onDisk, b.Data)
	assert.Equal(t, "builtin:order2k.json", b.Source)

	var order struct {
		Item     string
		Quantity int
		Note     string
		Tags     []string
	}
	dec := json.NewDecoder(bytes.NewReader(b.Data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&order))
	assert.Equal(t, "book", order.Item)
	assert.Equal(t, 3, order.Quantity)
	assert.Equal(t, "gift", order.Note)
	require.Len(t, order.Tags, 173)
	assert.Equal(t, "tag-0000", order.Tags[0])
	assert.Equal(t, "tag-0172", order.Tags[172])
	assert.Len(t, b.Data, 1954)
	assert.True(t, bytes.HasPrefix(b.Data, []byte(`{"item":"book","quantity":3,"note":"gift","tags":["tag-0000","tag-0001",`)))
	assert.True(t, bytes.HasSuffix(b.Data, []byte(`"tag-0172"]}`)))
}

func TestReadBody(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "b.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"x":1}`), 0o644))
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	tests := []struct {
		in     string
		exp    string
		expErr string
	}{
		{in: file, exp: `{"x":1}`},
		{in: empty, expErr: "request body " + empty + " is empty"},
		{in: filepath.Join(dir, "missing.json"), expErr: "read request body: open " + filepath.Join(dir, "missing.json") + ": no such file or directory"},
		{in: "builtin:nope.json", expErr: `read built-in request body "nope.json": open testdata/nope.json: file does not exist; the built-in ones are in cmd/loadbench/testdata`},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.in), func(t *testing.T) {
			got, err := readBody(tc.in)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, bodyFile{Source: tc.in, Data: []byte(tc.exp)}, got)
		})
	}
}

func TestCmdLoadBody(t *testing.T) {
	order, err := readBody(builtinPrefix + "order2k.json")
	require.NoError(t, err)
	srv := httptest.NewServer(postChecker(order.Data))
	defer srv.Close()
	tests := []struct {
		name    string
		args    []string
		expCode int
		expOut  string
	}{
		{
			name:    "a built-in body",
			args:    []string{"--body", "builtin:order2k.json"},
			expCode: 0,
			expOut:  "errors 0, non-2xx 0, reconnects 0\n",
		},
		{
			name:    "a missing body file",
			args:    []string{"--body", "builtin:nope.json"},
			expCode: 2,
			expOut:  `loadbench load: --body: read built-in request body "nope.json"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"load", "--url", srv.URL + "/orders/7", "--conns", "2", "--duration", "200ms"}, tc.args...)
			code := dispatch(t.Context(), args, &stdout, &stderr)
			assert.Equal(t, tc.expCode, code, stderr.String())
			out := stdout.String() + stderr.String()
			assert.Contains(t, out, tc.expOut)
		})
	}
}
