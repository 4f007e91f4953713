package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// echoBackend answers every request with what it received, as JSON.
func echoBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"backend": name, "method": r.Method, "path": r.URL.EscapedPath(), "query": r.URL.RawQuery,
			"host": r.Host, "headers": r.Header, "body": string(body),
		})
	}))
	t.Cleanup(s.Close)
	return s
}

type echoed struct {
	Backend string              `json:"backend"`
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   string              `json:"query"`
	Host    string              `json:"host"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

func decodeEcho(t *testing.T, body string) echoed {
	t.Helper()
	var e echoed
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e
}

const basicConfig = `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
  max_body_bytes = "1KiB"
}

upstream "users" {
  targets = ["${BACKEND}"]
}

route "GET /users/{id}" {
  upstream      = upstream.users
  upstream_path = "/internal/users/{id}"
  request_headers { set = { "X-Env" = "test" } }
  response_headers { remove = ["X-Backend"] }
}

route "ANY /files/{proxy+}" {
  upstream = upstream.users
}

route "POST /upload" {
  upstream = upstream.users
}

route "GET /hello" {
  mock {
    status  = 200
    headers = { "Content-Type" = "application/json" }
    body    = jsonencode({ hello = "world" })
  }
}

api "shop" {
  base_path = "/v1"
  route "GET /items/{id}" {
    upstream = upstream.users
  }
}
`

func TestProxyBasics(t *testing.T) {
	be := echoBackend(t, "users")
	p := startGateway(t, basicConfig, map[string]string{"BACKEND": be.URL})
	c := client()

	t.Run("route with param and upstream_path", func(t *testing.T) {
		status, hdr, body := get(t, c, p.URL("/users/42?x=1&y=%2F"), "X-Request-Id", "abc-123")
		require.Equal(t, http.StatusOK, status, body)
		e := decodeEcho(t, body)
		assert.Equal(t, "/internal/users/42", e.Path)
		assert.Equal(t, "x=1&y=%2F", e.Query)
		assert.Equal(t, []string{"test"}, e.Headers["X-Env"])
		assert.Equal(t, []string{"abc-123"}, e.Headers["X-Request-Id"])
		assert.Equal(t, []string{"127.0.0.1"}, e.Headers["X-Forwarded-For"])
		assert.Equal(t, []string{"http"}, e.Headers["X-Forwarded-Proto"])
		assert.Equal(t, []string{p.Addr}, e.Headers["X-Forwarded-Host"])
		require.Len(t, e.Headers["Forwarded"], 1)
		assert.Contains(t, e.Headers["Forwarded"][0], "for=127.0.0.1")
		assert.Equal(t, "abc-123", hdr.Get("X-Request-Id"))
		assert.Empty(t, hdr.Get("X-Backend"), "response_headers.remove")
	})
	t.Run("request id generated when absent", func(t *testing.T) {
		_, hdr, body := get(t, c, p.URL("/users/1"))
		id := hdr.Get("X-Request-Id")
		assert.Len(t, id, 36)
		assert.Equal(t, []string{id}, decodeEcho(t, body).Headers["X-Request-Id"])
	})
	t.Run("greedy path", func(t *testing.T) {
		status, _, body := get(t, c, p.URL("/files/a/b/c.txt"))
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, "/files/a/b/c.txt", decodeEcho(t, body).Path)
	})
	t.Run("api base path", func(t *testing.T) {
		status, _, body := get(t, c, p.URL("/v1/items/7"))
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, "/v1/items/7", decodeEcho(t, body).Path)
	})
	t.Run("mock", func(t *testing.T) {
		status, hdr, body := get(t, c, p.URL("/hello"))
		require.Equal(t, http.StatusOK, status)
		assert.JSONEq(t, `{"hello":"world"}`, body)
		assert.Equal(t, "application/json", hdr.Get("Content-Type"))
	})
	t.Run("not found", func(t *testing.T) {
		status, hdr, body := get(t, c, p.URL("/nope"))
		assert.Equal(t, http.StatusNotFound, status)
		assert.Equal(t, "application/json", hdr.Get("Content-Type"))
		var m map[string]string
		require.NoError(t, json.Unmarshal([]byte(body), &m))
		assert.Equal(t, "Not Found", m["message"])
		assert.Equal(t, hdr.Get("X-Request-Id"), m["requestId"])
	})
	t.Run("method not allowed", func(t *testing.T) {
		resp, err := c.Post(p.URL("/users/1"), "text/plain", strings.NewReader("x"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		assert.Equal(t, "GET", resp.Header.Get("Allow"))
	})
	t.Run("body too large", func(t *testing.T) {
		resp, err := c.Post(p.URL("/upload"), "text/plain", strings.NewReader(strings.Repeat("x", 2048)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		resp, err = c.Post(p.URL("/upload"), "text/plain", strings.NewReader("small"))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "small", decodeEcho(t, string(b)).Body)
	})
	t.Run("chunked body too large", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(bytes.Repeat([]byte("y"), 4096))
			pw.Close()
		}()
		resp, err := c.Post(p.URL("/upload"), "text/plain", pr)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	})
	t.Run("path normalised before routing and forwarding", func(t *testing.T) {
		for _, path := range []string{"/files/x/../../users/5", "/files/x/%2e%2e/%2E%2E/users/5", "//users//5"} {
			status, _, body := getRaw(t, p.Addr, path)
			require.Equal(t, http.StatusOK, status, path)
			assert.Equal(t, "/internal/users/5", decodeEcho(t, body).Path, path)
		}
		status, _, _ := getRaw(t, p.Addr, "/files/a%2Fb")
		assert.Equal(t, http.StatusBadRequest, status)
	})
	t.Run("metrics", func(t *testing.T) {
		_, _, body := get(t, c, p.AdminURL("/metrics"))
		assert.Contains(t, body, `gateway_requests_total{method="GET",route="GET /users/{id}",status="200"}`)
		assert.Contains(t, body, `gateway_upstream_target_healthy{target=`)
		assert.Contains(t, body, `gateway_request_duration_seconds_bucket`)
	})
	t.Run("admin health", func(t *testing.T) {
		status, _, _ := get(t, c, p.AdminURL("/healthz"))
		assert.Equal(t, http.StatusOK, status)
		status, _, _ = get(t, c, p.AdminURL("/readyz"))
		assert.Equal(t, http.StatusOK, status)
	})
	t.Run("access log", func(t *testing.T) {
		_, hdr, _ := get(t, c, p.URL("/users/9"))
		id := hdr.Get("X-Request-Id")
		require.Eventually(t, func() bool { return strings.Contains(p.Logs(), id) }, 10*time.Second, 20*time.Millisecond)
		for _, line := range strings.Split(p.Logs(), "\n") {
			if !strings.Contains(line, id) {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m))
			assert.Equal(t, "GET /users/{id}", m["route"])
			assert.Equal(t, float64(200), m["status"])
			assert.Equal(t, "127.0.0.1", m["client_ip"])
			assert.Equal(t, be.URL, "http://"+strings.TrimPrefix(m["upstream_target"].(string), "http://"))
		}
	})
}

// getRaw sends a GET with the path exactly as given (no client-side cleaning).
func getRaw(t *testing.T, addr, path string) (int, http.Header, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestFramingAttacksRejected(t *testing.T) {
	var hits atomic.Int64
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer be.Close()
	p := startGateway(t, basicConfig, map[string]string{"BACKEND": be.URL})
	cases := map[string]string{
		"cl and te":          "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"duplicate cl":       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
		"conflicting cl":     "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
		"space before colon": "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
			_, err = conn.Write([]byte(raw))
			require.NoError(t, err)
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.True(t, resp.Close, "the 400 must announce Connection: close")
			_, err = br.ReadByte()
			assert.Equal(t, io.EOF, err, "connection must be closed")
		})
	}
	assert.Zero(t, hits.Load(), "no ambiguous request may reach the upstream")
}

func TestUpstreamFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	var failing atomic.Int64
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failing.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer bad.Close()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadURL := "http://" + dead.Addr().String()
	dead.Close()

	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
upstream "slow" {
  targets = ["${SLOW}"]
}
upstream "dead" {
  targets = ["${DEAD}"]
}
upstream "bad" {
  targets = ["${BAD}"]
  circuit_breaker {
    consecutive_failures = 3
    open_timeout         = "30s"
  }
}
route "GET /slow" {
  upstream = upstream.slow
  timeout  = "200ms"
}
route "GET /dead" {
  upstream = upstream.dead
}
route "GET /bad" {
  upstream = upstream.bad
}
route "GET /ok" {
  mock { body = "ok" }
}
`
	p := startGateway(t, cfg, map[string]string{"SLOW": slow.URL, "DEAD": deadURL, "BAD": bad.URL})
	c := client()

	status, _, body := get(t, c, p.URL("/slow"))
	assert.Equal(t, http.StatusGatewayTimeout, status)
	assert.Contains(t, body, `"message":"Endpoint request timed out"`)

	status, _, body = get(t, c, p.URL("/dead"))
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Contains(t, body, `"requestId"`)

	for i := 0; i < 3; i++ {
		status, _, _ = get(t, c, p.URL("/bad"))
		assert.Equal(t, http.StatusInternalServerError, status)
	}
	status, hdr, body := get(t, c, p.URL("/bad"))
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, `"message":"Service Unavailable"`)
	assert.NotEmpty(t, hdr.Get("Retry-After"))
	assert.Equal(t, int64(3), failing.Load(), "an open breaker fails fast without calling the upstream")

	status, _, _ = get(t, c, p.URL("/ok"))
	assert.Equal(t, http.StatusOK, status, "a broken upstream never takes down other routes")

	_, _, metrics := get(t, c, p.AdminURL("/metrics"))
	assert.Contains(t, metrics, `gateway_circuit_breaker_state{target="`+bad.URL)
	assert.Regexp(t, `gateway_circuit_breaker_state\{target="`+bad.URL+`[^"]*",upstream="bad"\} 2`, metrics)
}

func TestCompression(t *testing.T) {
	big := strings.Repeat(`{"name":"value","n":12345},`, 200)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "["+big+"{}]")
	}))
	defer be.Close()
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
compression {
  enabled  = true
  min_size = "1KiB"
}
upstream "be" {
  targets = ["${BACKEND}"]
}
route "GET /data" {
  upstream = upstream.be
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL})
	c := client()
	status, hdr, body := get(t, c, p.URL("/data"), "Accept-Encoding", "gzip")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "gzip", hdr.Get("Content-Encoding"))
	assert.Contains(t, hdr.Values("Vary"), "Accept-Encoding")
	zr, err := gzip.NewReader(strings.NewReader(body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, "["+big+"{}]", string(plain))

	_, hdr, body = get(t, c, p.URL("/data"))
	assert.Empty(t, hdr.Get("Content-Encoding"))
	assert.Equal(t, "["+big+"{}]", body)
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.hcl")
	require.NoError(t, os.WriteFile(good, []byte(`
upstream "a" {
  targets = ["http://127.0.0.1:1"]
}
route "GET /a" {
  upstream = upstream.a
}
`), 0o644))
	bad := filepath.Join(dir, "bad.hcl")
	require.NoError(t, os.WriteFile(bad, []byte(`
upstream "a" {
  targets = ["http://127.0.0.1:1"]
  balance = "sideways"
}
route "GET /a" {
  upstream = upstream.billing
}
route "GET /b" {
  upstream = upstream.a
  timeout  = "10x"
}
`), 0o644))

	out, err := exec.Command(gatewayBin, "validate", "--config", good).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "valid")

	cmd := exec.Command(gatewayBin, "validate", "--config", bad)
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, 1, cmd.ProcessState.ExitCode())
	s := string(out)
	// Every error is reported, each with file:line:column.
	assert.Contains(t, s, "bad.hcl:4:13: Invalid balance")
	assert.Contains(t, s, "bad.hcl:7:14: Unknown upstream")
	assert.Contains(t, s, "bad.hcl:11:14: Invalid duration")
	assert.Contains(t, s, `"billing"`)
	assert.Contains(t, s, "3 error(s)")

	out, _ = exec.Command(gatewayBin, "version").CombinedOutput()
	assert.True(t, strings.HasPrefix(string(out), "gateway "), string(out))
}

func TestConfigEndpointRedactsSecrets(t *testing.T) {
	be := echoBackend(t, "a")
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
upstream "a" {
  targets = ["${BACKEND}"]
}
route "GET /a" {
  upstream = upstream.a
  request_headers { set = { "Authorization" = env("E2E_SECRET_TOKEN") } }
}
`
	t.Setenv("E2E_SECRET_TOKEN", "s3cr3t-value-do-not-print")
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL})
	c := client()
	_, _, body := get(t, c, p.URL("/a"))
	assert.Equal(t, []string{"s3cr3t-value-do-not-print"}, decodeEcho(t, body).Headers["Authorization"])
	status, _, conf := get(t, c, p.AdminURL("/config"))
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, conf, "s3cr3t-value-do-not-print")
	assert.Contains(t, conf, "GET /a")
	assert.NotContains(t, p.Logs(), "s3cr3t-value-do-not-print")
}

// TestReloadUnderLoad reloads the config 20 times (alternating between two
// valid configs, plus an invalid one each time that must be rejected) while
// clients hammer the gateway, and requires zero failed requests.
func TestReloadUnderLoad(t *testing.T) {
	a := echoBackend(t, "a")
	b := echoBackend(t, "b")
	// The plugin set is swapped too: each reload loads the plugin again.
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
plugin "tag" {
  source = "${ADD_HEADER}"
  limits { timeout = "5s" } # tests reloads, not the 50 ms default deadline (-race on 2 busy cores)
  config = {
    response = { "X-Generation" = "${BACKEND}" }
  }
}
upstream "svc" {
  targets = ["${BACKEND}"]
}
route "GET /svc/{proxy+}" {
  upstream = upstream.svc
  pipeline = [plugin.tag]
}
`
	addHeader := wasmtest.Build(t, "../../examples/plugins/add-header")
	vars := func(be string) map[string]string { return map[string]string{"BACKEND": be, "ADD_HEADER": addHeader} }
	p := startGateway(t, cfg, vars(a.URL))
	c := client()

	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg        sync.WaitGroup
		ok, fails atomic.Int64
		seen      sync.Map
		failMsg   atomic.Value
	)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := c.Get(p.URL("/svc/ping"))
				if err != nil {
					fails.Add(1)
					failMsg.Store(err.Error())
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("X-Generation"), "http://") {
					fails.Add(1)
					failMsg.Store(resp.Status)
					continue
				}
				seen.Store(resp.Header.Get("X-Backend"), true)
				ok.Add(1)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		be := a.URL
		if i%2 == 0 {
			be = b.URL
		}
		require.NoError(t, os.WriteFile(p.Config, []byte(expand(cfg, vars(be))), 0o644))
		resp, err := c.Post(p.AdminURL("/reload"), "", nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		// An invalid config is rejected and the current one keeps serving.
		require.NoError(t, os.WriteFile(p.Config, []byte(`route "GET /x" { upstream = upstream.missing }`), 0o644))
		resp, err = c.Post(p.AdminURL("/reload"), "", nil)
		require.NoError(t, err)
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		assert.Contains(t, string(body), "gateway.hcl:1:")
	}
	// Restore a valid file so the file watcher does not keep seeing the bad one.
	require.NoError(t, os.WriteFile(p.Config, []byte(expand(cfg, vars(a.URL))), 0o644))
	cancel()
	wg.Wait()
	msg, _ := failMsg.Load().(string)
	if fails.Load() > 0 { // show why: warnings, errors and the failed requests' log lines
		for _, line := range strings.Split(p.Logs(), "\n") {
			if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"status":5`) {
				t.Log(line)
			}
		}
	}
	assert.Zero(t, fails.Load(), "failed requests during reloads (last: %s)", msg)
	assert.Greater(t, ok.Load(), int64(20))
	_, sawA := seen.Load("a")
	_, sawB := seen.Load("b")
	assert.True(t, sawA && sawB, "both configs served")

	_, _, metrics := get(t, c, p.AdminURL("/metrics"))
	assert.GreaterOrEqual(t, metricValue(t, metrics, `gateway_config_reloads_total{result="success"}`), 20.0)
	assert.GreaterOrEqual(t, metricValue(t, metrics, `gateway_config_reloads_total{result="failure"}`), 20.0)
}

// metricValue returns the value of the series named exactly by series.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			require.NoError(t, err, line)
			return f
		}
	}
	t.Fatalf("series %s not found in:\n%s", series, text)
	return 0
}

func TestReloadOnSIGHUP(t *testing.T) {
	be := echoBackend(t, "a")
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
upstream "a" {
  targets = ["${BACKEND}"]
}
route "GET /${ROUTE}" {
  upstream = upstream.a
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL, "ROUTE": "one"})
	c := client()
	status, _, _ := get(t, c, p.URL("/one"))
	require.Equal(t, http.StatusOK, status)
	require.NoError(t, os.WriteFile(p.Config, []byte(expand(cfg, map[string]string{"BACKEND": be.URL, "ROUTE": "two"})), 0o644))
	p.signal(syscall.SIGHUP)
	p.waitLog("config reloaded", 20*time.Second)
	status, _, _ = get(t, c, p.URL("/two"))
	assert.Equal(t, http.StatusOK, status)
	status, _, _ = get(t, c, p.URL("/one"))
	assert.Equal(t, http.StatusNotFound, status)
}

func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "finished")
	}))
	defer be.Close()
	cfg := `
gateway {
  listen           = ["127.0.0.1:0"]
  admin_listen     = "127.0.0.1:0"
  shutdown_timeout = "20s"
}
upstream "a" {
  targets = ["${BACKEND}"]
}
route "GET /wait" {
  upstream = upstream.a
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL})
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := client().Get(p.URL("/wait"))
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	p.signal(syscall.SIGTERM)
	p.waitLog("shutting down; draining in-flight requests", 10*time.Second)
	// New connections are refused while draining.
	_, err := net.DialTimeout("tcp", p.Addr, time.Second)
	assert.Error(t, err)
	close(release)
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "finished", r.body)
	assert.Equal(t, 0, p.wait(20*time.Second))
}

func TestReloadOnFileChange(t *testing.T) {
	be := echoBackend(t, "a")
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
upstream "a" {
  targets = ["${BACKEND}"]
}
route "GET /${ROUTE}" {
  upstream = upstream.a
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL, "ROUTE": "before"})
	c := client()
	require.NoError(t, os.WriteFile(p.Config, []byte(expand(cfg, map[string]string{"BACKEND": be.URL, "ROUTE": "after-change"})), 0o644))
	p.waitLog("config reloaded", 20*time.Second)
	status, _, _ := get(t, c, p.URL("/after-change"))
	assert.Equal(t, http.StatusOK, status)
}

// TestReloadRejectsBlankFile: a config file caught mid-write (empty, or only
// whitespace) is rejected and the running config keeps serving; it is never
// loaded as a config without routes.
func TestReloadRejectsBlankFile(t *testing.T) {
	be := echoBackend(t, "a")
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
upstream "a" {
  targets = ["${BACKEND}"]
}
route "GET /kept" {
  upstream = upstream.a
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL})
	c := client()
	for _, blank := range []string{"", "\n", " \n\t\n"} {
		require.NoError(t, os.WriteFile(p.Config, []byte(blank), 0o644))
		resp, err := c.Post(p.AdminURL("/reload"), "", nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%q", blank)
		assert.Contains(t, string(body), "is empty", "%q", blank)
		status, _, _ := get(t, c, p.URL("/kept"))
		assert.Equal(t, http.StatusOK, status, "the running config keeps serving after %q", blank)
	}
}

func TestTLSListenerServesHTTP1AndHTTP2(t *testing.T) {
	be := echoBackend(t, "a")
	dir := t.TempDir()
	certFile, keyFile, pool := writeTestCert(t, dir)
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
  listener "tls" {
    address = "127.0.0.1:0"
    tls {
      cert_file = "${CERT}"
      key_file  = "${KEY}"
    }
  }
}
upstream "a" {
  targets = ["${BACKEND}"]
}
route "GET /who" {
  upstream = upstream.a
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL, "CERT": certFile, "KEY": keyFile})
	// The second "listening" line is the TLS listener.
	var tlsAddr string
	for _, line := range strings.Split(p.Logs(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" && m["tls"] == true {
			tlsAddr = m["address"].(string)
		}
	}
	require.NotEmpty(t, tlsAddr, p.Logs())
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := c.Get("https://" + tlsAddr + "/who")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		if h2 {
			assert.Equal(t, 2, resp.ProtoMajor)
		} else {
			assert.Equal(t, 1, resp.ProtoMajor)
		}
		e := decodeEcho(t, string(body))
		assert.Equal(t, []string{"https"}, e.Headers["X-Forwarded-Proto"])
	}
}

// writeTestCert writes a self-signed certificate for localhost and returns the
// file paths and a pool that trusts it.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	certFile = filepath.Join(dir, "cert.pem")
	keyFile = filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestH2CListener(t *testing.T) {
	be := echoBackend(t, "a")
	cfg := `
gateway {
  admin_listen = "127.0.0.1:0"
  listener "h2c" {
    address = "127.0.0.1:0"
    h2c     = true
  }
}
upstream "a" {
  targets = ["${BACKEND}"]
}
route "GET /who" {
  upstream = upstream.a
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL})
	var prot http.Protocols
	prot.SetUnencryptedHTTP2(true)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Protocols: &prot}}
	resp, err := c.Get(p.URL("/who"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, 2, resp.ProtoMajor, "prior-knowledge HTTP/2 over cleartext")
	assert.Equal(t, "/who", decodeEcho(t, string(body)).Path)
}

func TestUpgradePassthrough(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(conn, brw)
	}))
	defer be.Close()
	cfg := `
gateway {
  listen       = ["127.0.0.1:0"]
  admin_listen = "127.0.0.1:0"
}
upstream "ws" {
  targets = ["${BACKEND}"]
}
route "GET /ws" {
  upstream = upstream.ws
}
`
	p := startGateway(t, cfg, map[string]string{"BACKEND": be.URL})
	conn, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	for _, msg := range []string{"hello", "world, both ways"} {
		_, err = io.WriteString(conn, msg)
		require.NoError(t, err)
		buf := make([]byte, len(msg))
		_, err = io.ReadFull(br, buf)
		require.NoError(t, err)
		assert.Equal(t, msg, string(buf))
	}

	// An upgrade request the upstream refuses closes the connection, so the
	// framing guard's passthrough cannot be used to smuggle a request.
	conn2, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
	require.NoError(t, err)
	defer conn2.Close()
	require.NoError(t, conn2.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn2, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n"+
		"POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	require.NoError(t, err)
	br2 := bufio.NewReader(conn2)
	resp2, err := http.ReadResponse(br2, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp2.Body)
	resp2.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp2.StatusCode)
	assert.True(t, resp2.Close)
	_, err = http.ReadResponse(br2, nil)
	assert.Error(t, err, "no second response: the smuggled request was never read")
}
