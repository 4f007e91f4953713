package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

const functionConfig = `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
plugin "setprop" {
  source = "${SETPROP}"
}
upstream "blocker" {
  targets = ["${BLOCKER}"]
}
function "probe" {
  source = "${PROBE}"
  config = { greeting = "from config" }
  env    = { GREETING = "hello from env" }
  limits {
    timeout = "300ms"
  }
  min_warm = 2
}
function "slow" {
  source        = "${PROBE}"
  concurrency   = 1
  queue_timeout = "100ms"
}
api "shop" {
  base_path = "/shop"
  stage     = "prod"
  variables = { table = "orders" }
  pipeline  = [plugin.setprop]

  route "POST /fn/{mode}" {
    function = function.probe
  }
}
route "ANY /fn/{mode}" {
  function = function.probe
}
route "GET /slow/{mode}" {
  function = function.slow
}
`

// blocker is the upstream the "wait" probe calls: it holds each request until
// release is closed, after telling entered.
type blocker struct {
	entered chan struct{}
	release chan struct{}
}

func startFunctionGateway(t *testing.T) (*proc, *blocker) {
	t.Helper()
	b := &blocker{entered: make(chan struct{}, 4), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.entered <- struct{}{}
		<-b.release
		_, _ = io.WriteString(w, "released")
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
	})
	vars := map[string]string{
		"PROBE":   wasmtest.Build(t, "testdata/functions/probe"),
		"SETPROP": wasmtest.Build(t, "testdata/functions/setprop"),
		"BLOCKER": srv.URL,
	}
	return startGateway(t, functionConfig, vars), b
}

func do(t *testing.T, c *http.Client, method, url string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestFunctionEventAndResponse(t *testing.T) {
	p, _ := startFunctionGateway(t)
	c := client()

	resp, body := do(t, c, "POST", p.URL("/shop/fn/echo?a=1&a=2&b=x%20y"), []byte(`{"n":1}`),
		"X-User", "alice", "X-Multi-In", "1", "X-Multi-In", "2", "Cookie", "s=1; t=2", "User-Agent", "e2e/1")
	require.Equal(t, 201, resp.StatusCode, string(body))
	var ev abi.FunctionEvent
	require.NoError(t, json.Unmarshal(body, &ev))

	assert.Equal(t, "2.0", ev.Version)
	assert.Equal(t, "POST /shop/fn/{mode}", ev.RouteKey)
	assert.Equal(t, "/shop/fn/echo", ev.RawPath)
	assert.Equal(t, "a=1&a=2&b=x%20y", ev.RawQueryString)
	assert.Equal(t, map[string]string{"a": "1,2", "b": "x y"}, ev.QueryStringParameters)
	assert.Equal(t, []string{"s=1", "t=2"}, ev.Cookies)
	assert.Equal(t, "1,2", ev.Headers["x-multi-in"])
	assert.Equal(t, "alice", ev.Headers["x-user"])
	assert.NotContains(t, ev.Headers, "cookie", "cookies are split out of the headers")
	assert.Equal(t, strings.TrimPrefix(p.URL(""), "http://"), ev.Headers["host"])
	assert.Equal(t, "e2e/1", ev.Headers["user-agent"])
	assert.Equal(t, map[string]string{"mode": "echo"}, ev.PathParameters)
	assert.Equal(t, map[string]string{"table": "orders"}, ev.StageVariables)
	assert.Equal(t, `{"n":1}`, ev.Body)
	assert.False(t, ev.IsBase64Encoded)

	rc := ev.RequestContext
	assert.Equal(t, resp.Header.Get("X-Request-Id"), rc.RequestID)
	assert.Equal(t, "prod", rc.Stage)
	assert.Equal(t, "POST /shop/fn/{mode}", rc.RouteKey)
	assert.NotZero(t, rc.TimeEpoch)
	assert.NotEmpty(t, rc.Time)
	assert.Equal(t, abi.HTTPContext{Method: "POST", Path: "/shop/fn/echo", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "e2e/1"}, rc.HTTP)
	require.NotNil(t, rc.Authorizer, "properties set by a plugin before the function")
	assert.Equal(t, "alice", rc.Authorizer.Properties["auth.principal"])

	// Response mapping.
	assert.Equal(t, "probe", resp.Header.Get("X-Fn"))
	assert.Equal(t, []string{"a", "b"}, resp.Header.Values("X-Multi"))
	assert.Equal(t, []string{"session=abc; Path=/; HttpOnly", "theme=dark"}, resp.Header.Values("Set-Cookie"))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "yes", resp.Header.Get("X-After-Function"), "response phases run after the function")

	t.Run("top-level route has the default stage and no authorizer", func(t *testing.T) {
		resp, body := do(t, c, "GET", p.URL("/fn/echo"), nil)
		require.Equal(t, 201, resp.StatusCode)
		var ev abi.FunctionEvent
		require.NoError(t, json.Unmarshal(body, &ev))
		assert.Equal(t, "$default", ev.RequestContext.Stage)
		assert.Nil(t, ev.RequestContext.Authorizer)
		assert.Empty(t, ev.Body)
		assert.Empty(t, resp.Header.Get("X-After-Function"))
	})
	t.Run("env and config", func(t *testing.T) {
		resp, body := do(t, c, "GET", p.URL("/fn/env"), nil)
		require.Equal(t, 200, resp.StatusCode)
		assert.JSONEq(t, `{"greeting":"hello from env","config":"{\"greeting\":\"from config\"}"}`, string(body))
	})
	t.Run("binary bodies both ways", func(t *testing.T) {
		in := []byte{0x00, 0x01, 0xfe, 0xff, 'a'}
		resp, body := do(t, c, "POST", p.URL("/fn/binary"), in, "Content-Type", "application/octet-stream")
		require.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, append(bytes.Clone(in), 0xff, 0x00), body)
		assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	})
}

func TestFunctionFailures(t *testing.T) {
	p, _ := startFunctionGateway(t)
	c := client()
	for _, tc := range []struct {
		name, path string
		status     int
		message    string
		log        string
	}{
		{"timeout", "/fn/timeout", 504, "Endpoint request timed out", `"reason":"timeout"`},
		{"panic", "/fn/panic", 502, "Internal server error", `"reason":"trap"`},
		{"error", "/fn/error", 502, "Internal server error", "probe: asked to fail"},
		{"malformed", "/fn/malformed", 502, "Internal server error", "isBase64Encoded is true but body is not standard base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, c, "GET", p.URL(tc.path), nil)
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
			id := resp.Header.Get("X-Request-Id")
			assert.JSONEq(t, `{"message":"`+tc.message+`","requestId":"`+id+`"}`, string(body))
			// The failure is logged with what went wrong and the request id.
			require.Eventually(t, func() bool {
				for _, line := range strings.Split(p.Logs(), "\n") {
					if strings.Contains(line, tc.log) && strings.Contains(line, id) {
						return true
					}
				}
				return false
			}, 5e9, 1e7, "no log line with %s and %s:\n%s", tc.log, id, p.Logs())
			// The next request works.
			resp, body = do(t, c, "GET", p.URL("/fn/env"), nil)
			assert.Equal(t, 200, resp.StatusCode, string(body))
		})
	}
	_, _, metrics := get(t, c, p.AdminURL("/metrics"))
	assert.Equal(t, 1.0, metricValue(t, metrics, `gateway_function_errors_total{function="probe",reason="timeout"}`))
	assert.Equal(t, 1.0, metricValue(t, metrics, `gateway_function_errors_total{function="probe",reason="response"}`))
	assert.GreaterOrEqual(t, metricValue(t, metrics, `gateway_function_cold_starts_total{function="probe"}`), 1.0)
	assert.GreaterOrEqual(t, metricValue(t, metrics, `gateway_function_invocations_total{function="probe"}`), 8.0)
	assert.Contains(t, metrics, `gateway_function_duration_seconds_bucket{function="probe"`)
	assert.Contains(t, metrics, `gateway_function_concurrent_executions{function="probe"} 0`)
	assert.GreaterOrEqual(t, metricValue(t, metrics, `gateway_function_instances{function="probe"}`), 1.0, "min_warm stays live")
}

func TestFunctionConcurrencyLimit(t *testing.T) {
	p, b := startFunctionGateway(t)
	c := client()

	var wg sync.WaitGroup
	var firstStatus int
	var firstBody []byte
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, body := do(t, c, "GET", p.URL("/slow/wait"), nil)
		firstStatus, firstBody = resp.StatusCode, body
	}()
	<-b.entered // the only instance of "slow" is busy

	resp, body := do(t, c, "GET", p.URL("/slow/echo"), nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.JSONEq(t, `{"message":"Too Many Requests","requestId":"`+resp.Header.Get("X-Request-Id")+`"}`, string(body))

	close(b.release)
	wg.Wait()
	assert.Equal(t, 200, firstStatus)
	assert.Equal(t, "released", string(firstBody))
	resp, _ = do(t, c, "GET", p.URL("/slow/echo"), nil)
	assert.Equal(t, 201, resp.StatusCode, "the instance is free again")

	_, _, metrics := get(t, c, p.AdminURL("/metrics"))
	assert.Equal(t, 1.0, metricValue(t, metrics, `gateway_function_throttles_total{function="slow"}`))
}

func TestFunctionBase64RequestForNonUTF8(t *testing.T) {
	p, _ := startFunctionGateway(t)
	in := []byte{0xff, 0xfe, 0x00}
	resp, body := do(t, client(), "POST", p.URL("/fn/echo"), in)
	require.Equal(t, 201, resp.StatusCode)
	var ev abi.FunctionEvent
	require.NoError(t, json.Unmarshal(body, &ev))
	assert.True(t, ev.IsBase64Encoded)
	assert.Equal(t, base64.StdEncoding.EncodeToString(in), ev.Body)
}
