package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// validationVars builds the validation and transformation plugins.
func validationVars(t *testing.T) map[string]string {
	t.Helper()
	schema, err := filepath.Abs("../../plugins/request-validator/testdata/order.json")
	require.NoError(t, err)
	return map[string]string{
		"VALIDATOR": wasmtest.Build(t, "../../plugins/request-validator"),
		"TRANSFORM": wasmtest.Build(t, "../../plugins/transform"),
		"SIZE":      wasmtest.Build(t, "../../plugins/size-limit"),
		"RESPONSES": wasmtest.Build(t, "../../plugins/gateway-responses"),
		"XML":       wasmtest.Build(t, "../../plugins/xml"),
		"SCHEMA":    schema,
	}
}

const validationConfig = `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
  pipeline     = [plugin.responses]
}
plugin "responses" {
  source = "${RESPONSES}"
  limits { timeout = "5s" } # tests behaviour, not the 50 ms default deadline (-race on 2 busy cores)
  config = {
    responses = {
      "5xx" = { status = 503, body = "{\"error\":\"$${message}\",\"id\":\"$${requestId}\"}" }
    }
  }
}
plugin "validate" {
  source = "${VALIDATOR}"
  limits { timeout = "5s" } # tests behaviour, not the 50 ms default deadline (-race on 2 busy cores)
  config = {
    schema        = file("${SCHEMA}")
    content_types = ["application/json"]
    path_params   = { id = "^[0-9]+$" }
    report_errors = true
  }
}
plugin "transform" {
  source = "${TRANSFORM}"
  limits { timeout = "5s" } # tests behaviour, not the 50 ms default deadline (-race on 2 busy cores)
  config = {
    stage_variables = { env = "e2e" }
    request = {
      path    = "/v2/orders/{id}"
      headers = { set = { "X-Stage" = "$${$stageVariables.env}" } }
      body    = { sku = "$.body.item", qty = "$.body.quantity", order = "$path.id | int", rid = "$context.requestId" }
    }
  }
}
plugin "small" {
  source = "${SIZE}"
  limits { timeout = "5s" } # tests behaviour, not the 50 ms default deadline (-race on 2 busy cores)
  config = {
    max_bytes     = 64
    content_types = ["application/json"]
  }
}
plugin "xml" {
  source = "${XML}"
  limits { timeout = "5s" } # tests behaviour, not the 50 ms default deadline (-race on 2 busy cores)
  config = { request = "json-to-xml" }
}
upstream "be" {
  targets = ["${BACKEND}"]
}
upstream "dead" {
  targets = ["http://127.0.0.1:1"]
}
route "POST /orders/{id}" {
  upstream = upstream.be
  pipeline = [plugin.validate, plugin.transform]
}
route "POST /small" {
  upstream = upstream.be
  pipeline = [plugin.small]
}
route "POST /xml" {
  upstream = upstream.be
  pipeline = [plugin.xml]
}
route "GET /dead" {
  upstream = upstream.dead
}
`

func post(t *testing.T, c *http.Client, url, ct, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", ct)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func TestValidationPlugins(t *testing.T) {
	be := echoBackend(t, "be")
	vars := validationVars(t)
	vars["BACKEND"] = be.URL
	p := startGateway(t, validationConfig, vars)
	c := client()

	t.Run("valid body is validated then transformed", func(t *testing.T) {
		status, hdr, body := post(t, c, p.URL("/orders/12"), "application/json", `{"item":"本 📚","quantity":2}`)
		require.Equal(t, http.StatusOK, status, body)
		e := decodeEcho(t, body)
		assert.Equal(t, "/v2/orders/12", e.Path)
		assert.Equal(t, []string{"e2e"}, e.Headers["X-Stage"])
		assert.JSONEq(t, `{"sku":"本 📚","qty":2,"order":12,"rid":"`+hdr.Get("X-Request-Id")+`"}`, e.Body)
	})
	bad := []struct {
		name, path, ct, body string
		expStatus            int
		expBody              string
	}{
		{name: "schema violation", path: "/orders/1", ct: "application/json", body: `{"item":"a","quantity":"2"}`, expStatus: 400,
			expBody: `{"message":"Invalid request body","errors":[{"pointer":"/quantity","reason":"got string, want integer"}]}`},
		{name: "malformed JSON", path: "/orders/1", ct: "application/json", body: `{"item":`, expStatus: 400},
		{name: "empty body", path: "/orders/1", ct: "application/json", body: ``, expStatus: 400},
		{name: "big number", path: "/orders/1", ct: "application/json", body: `{"item":"a","quantity":1e309}`, expStatus: 400},
		{name: "deep nesting", path: "/orders/1", ct: "application/json", body: strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300), expStatus: 400},
		{name: "path pattern", path: "/orders/x1", ct: "application/json", body: `{"item":"a","quantity":1}`, expStatus: 400},
		{name: "content type", path: "/orders/1", ct: "text/xml", body: `<a/>`, expStatus: 415, expBody: `{"message":"Unsupported Media Type"}`},
		{name: "size limit", path: "/small", ct: "application/json", body: `{"pad":"` + strings.Repeat("x", 100) + `"}`, expStatus: 413, expBody: `{"message":"Request Entity Too Large"}`},
		{name: "size limit type", path: "/small", ct: "text/plain", body: `x`, expStatus: 415},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := post(t, c, p.URL(tc.path), tc.ct, tc.body)
			assert.Equal(t, tc.expStatus, status, body)
			if tc.expBody != "" {
				assert.JSONEq(t, tc.expBody, body)
			}
			assert.NotContains(t, body, `"backend"`, "upstream not reached")
		})
	}
	t.Run("small body passes size limit", func(t *testing.T) {
		status, _, body := post(t, c, p.URL("/small"), "application/json", `{"a":1}`)
		assert.Equal(t, http.StatusOK, status, body)
	})
	t.Run("json to xml", func(t *testing.T) {
		status, _, body := post(t, c, p.URL("/xml"), "application/json", `{"order":{"@id":"7","item":"本"}}`)
		require.Equal(t, http.StatusOK, status, body)
		e := decodeEcho(t, body)
		assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<order id="7"><item>本</item></order>`, e.Body)
		assert.Equal(t, []string{"application/xml; charset=utf-8"}, e.Headers["Content-Type"])
	})
	t.Run("malformed json to xml", func(t *testing.T) {
		status, _, body := post(t, c, p.URL("/xml"), "application/json", `{"order":`)
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.Contains(t, body, "Malformed JSON in request body")
	})
	t.Run("gateway response rewrites 502", func(t *testing.T) {
		status, hdr, body := get(t, c, p.URL("/dead"))
		assert.Equal(t, http.StatusServiceUnavailable, status, body)
		assert.JSONEq(t, `{"error":"Bad Gateway","id":"`+hdr.Get("X-Request-Id")+`"}`, body)
	})
}

func TestValidationSchemaDiagnostic(t *testing.T) {
	vars := validationVars(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"type":"strin"}`), 0o644))
	path := filepath.Join(dir, "gw.hcl")
	src := `
plugin "validate" {
  source = "${VALIDATOR}"
  config = { schema = file("bad.json") }
}
route "POST /a" {
  mock { body = "a" }
  pipeline = [plugin.validate]
}
`
	require.NoError(t, os.WriteFile(path, []byte(expand(src, vars)), 0o644))
	out, err := exec.CommandContext(context.Background(), gatewayBin, "validate", "--config", path).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "gw.hcl:2:1: Plugin rejected its config")
	assert.Contains(t, string(out), "compile schema")
}
