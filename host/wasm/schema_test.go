package wasm_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestJSONSchemaABI drives json_schema_compile, json_schema_error and
// json_validate from WAT: results, buffer+limit, ids of other instances,
// compiling outside on_configure, and the reasons' list form.
func TestJSONSchemaABI(t *testing.T) {
	e := newEnv(t)
	c := chain(e.load(pluginCfg("schema", watPlugin(t, "schema_abi"))))
	for range 3 { // the same on every request of a pooled instance
		w := httptest.NewRecorder()
		c.Handle(w, request("GET", "/", "", ""), info(), echo)
		assert.Equal(t, 200, w.Code)
		body := w.Body.String()
		if assert.GreaterOrEqual(t, len(body), 7) {
			assert.Equal(t, "1111111", body[:7], "checks: compile ok, bad schema -2, error text, valid 0, limit 1, unknown id -1, compile in a request -7")
			assert.Equal(t, "\x00missing property 'a'\x00", body[7:], "reasons: pointer NUL reason NUL")
		}
	}
}

// TestJSONSelectABI drives json_select from WAT: values in order, NUL after
// each, an empty item for a missing value, -2 for a malformed document.
func TestJSONSelectABI(t *testing.T) {
	e := newEnv(t)
	c := chain(e.load(pluginCfg("select", watPlugin(t, "json_select"))))
	w := httptest.NewRecorder()
	c.Handle(w, request("GET", "/", "", ""), info(), echo)
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "\"x\"\x00\x00{\"a\":[1,{\"b\":\"x\"}]}\x00", w.Body.String())
}
