package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// pluginVars builds the example plugins and the hostile WAT fixtures the
// plugin tests use, and returns their paths as template variables.
func pluginVars(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		"ADD_HEADER": wasmtest.Build(t, "../../examples/plugins/add-header"),
		"GEO_TAG":    wasmtest.Build(t, "../../examples/plugins/geo-tag"),
		"LOOP":       wasmtest.BuildWAT(t, "../../host/wasm/testdata/loop.wat"),
		"TRAP":       wasmtest.BuildWAT(t, "../../host/wasm/testdata/trap.wat"),
		"GROW":       wasmtest.BuildWAT(t, "../../host/wasm/testdata/grow.wat"),
	}
}

const pluginConfig = `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
  pipeline     = [plugin.add_header]
}
plugin "add_header" {
  source = "${ADD_HEADER}"
  config = {
    request  = { "X-Gateway" = "e2e" }
    response = { "X-Frame-Options" = "DENY" }
  }
  # Generous: the tests run under the race detector on 2 busy cores, where a
  # Go guest's phase can exceed the 50ms default; deadlines are tested below.
  limits {
    timeout = "5s"
  }
}
plugin "geo" {
  source = "${GEO_TAG}"
  config = {
    networks = { "127.0.0.0/8" = "LO" }
    deny     = ["LO"]
  }
  limits {
    timeout = "5s"
  }
}
plugin "geo_allow" {
  source = "${GEO_TAG}"
  config = {
    networks = { "127.0.0.0/8" = "LO" }
  }
  limits {
    timeout = "5s"
  }
}
plugin "loop_deny" {
  source   = "${LOOP}"
  on_error = "deny"
  limits {
    timeout = "20ms"
  }
}
plugin "trap_allow" {
  source   = "${TRAP}"
  on_error = "allow"
}
plugin "grow_deny" {
  source = "${GROW}"
  limits {
    memory = "1MiB"
  }
}
upstream "be" {
  targets = ["${BACKEND}"]
}
route "GET /tagged" {
  upstream = upstream.be
  pipeline = [plugin.geo_allow]
}
route "GET /denied" {
  upstream = upstream.be
  pipeline = [plugin.geo]
}
route "GET /loop" {
  upstream = upstream.be
  pipeline = [plugin.loop_deny]
}
route "GET /trap" {
  upstream = upstream.be
  pipeline = [plugin.trap_allow]
}
route "GET /grow" {
  upstream = upstream.be
  pipeline = [plugin.grow_deny]
}
route "GET /plain" {
  upstream = upstream.be
}
`

func TestPluginPipelines(t *testing.T) {
	be := echoBackend(t, "be")
	vars := pluginVars(t)
	vars["BACKEND"] = be.URL
	p := startGateway(t, pluginConfig, vars)
	c := client()

	t.Run("global and route plugins", func(t *testing.T) {
		status, hdr, body := get(t, c, p.URL("/tagged"))
		require.Equal(t, http.StatusOK, status, body)
		e := decodeEcho(t, body)
		assert.Equal(t, []string{"e2e"}, e.Headers["X-Gateway"], "global pipeline, request phase")
		assert.Equal(t, []string{"LO"}, e.Headers["X-Country"], "route pipeline")
		assert.Equal(t, "DENY", hdr.Get("X-Frame-Options"), "global pipeline, response phase")
	})
	t.Run("short circuit", func(t *testing.T) {
		status, hdr, body := get(t, c, p.URL("/denied"))
		assert.Equal(t, http.StatusForbidden, status, body)
		assert.Equal(t, "DENY", hdr.Get("X-Frame-Options"), "earlier plugins still see the local response")
	})
	hostile := []struct {
		path   string
		status int
	}{
		{path: "/loop", status: http.StatusInternalServerError},
		{path: "/trap", status: http.StatusOK}, // on_error = allow
		{path: "/grow", status: http.StatusInternalServerError},
	}
	for _, h := range hostile {
		t.Run("hostile "+h.path, func(t *testing.T) {
			for i := 0; i < 3; i++ {
				status, hdr, body := get(t, c, p.URL(h.path))
				assert.Equal(t, h.status, status, body)
				if status == http.StatusInternalServerError {
					assert.JSONEq(t, `{"message":"Internal server error","requestId":"`+hdr.Get("X-Request-Id")+`"}`, body)
				}
				// Every other route keeps serving.
				status, _, _ = get(t, c, p.URL("/plain"))
				assert.Equal(t, http.StatusOK, status)
			}
		})
	}
	_, _, metrics := get(t, c, p.AdminURL("/metrics"))
	assert.Contains(t, metrics, `gateway_plugin_faults_total{phase="on_request_headers",plugin="loop_deny",reason="timeout"} 3`)
	assert.Contains(t, metrics, `plugin="trap_allow",reason="trap"} 3`)
	assert.Contains(t, metrics, `plugin="grow_deny"`)
}

func TestPluginConcurrency(t *testing.T) {
	be := echoBackend(t, "be")
	vars := pluginVars(t)
	vars["BACKEND"] = be.URL
	p := startGateway(t, pluginConfig, vars)
	c := client()
	var wg sync.WaitGroup
	var bad atomic.Int64
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				resp, err := c.Get(p.URL("/tagged"))
				if err != nil {
					bad.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Frame-Options") != "DENY" {
					bad.Add(1)
					t.Logf("%s: %s", resp.Status, b)
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, bad.Load())
}

func TestValidatePluginErrors(t *testing.T) {
	vars := pluginVars(t)
	vars["NO_MARKER"] = wasmtest.BuildWAT(t, "../../host/wasm/testdata/no_marker.wat")
	dir := t.TempDir()
	bad := filepath.Join(dir, "plugins.hcl")
	src := `
plugin "geo" {
  source = "${GEO_TAG}"
  config = {
    networks = { "not-a-cidr" = "LO" }
  }
}
plugin "old" {
  source = "${NO_MARKER}"
}
route "GET /a" {
  mock { body = "a" }
  pipeline = [plugin.geo, plugin.old]
}
`
	require.NoError(t, os.WriteFile(bad, []byte(expand(src, vars)), 0o644))
	cmd := exec.CommandContext(context.Background(), gatewayBin, "validate", "--config", bad)
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	s := string(out)
	assert.Contains(t, s, "plugins.hcl:2:1: Plugin rejected its config", s)
	assert.Contains(t, s, "not-a-cidr")
	assert.Contains(t, s, "plugins.hcl:8:1: Invalid plugin", "every plugin error is reported")
	assert.Contains(t, s, "2 error(s)")
}
