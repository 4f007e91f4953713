package conformance_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
	"github.com/wasmgate/gateway/sdk/toolchain"
)

// variant is one plugin of the suite: a language and how to build it.
type variant struct {
	name   string // subtest and plugin name suffix
	lang   toolchain.Lang
	src    string // relative to this directory
	noLibc bool
	tag    string // the LANG the plugin reports in X-Conf-Lang
}

// variants lists the conformance plugin in every SDK language.
func variants() []variant {
	return []variant{
		{name: "go", lang: toolchain.Go, src: "go", tag: "go"},
		{name: "rust", lang: toolchain.Rust, src: "rust/plugin.rs", tag: "rust"},
		{name: "c", lang: toolchain.C, src: "c/plugin.c", tag: "c"},
		{name: "c-nolibc", lang: toolchain.C, src: "c/plugin.c", noLibc: true, tag: "c"},
		{name: "assemblyscript", lang: toolchain.AssemblyScript, src: "assemblyscript/plugin.ts", tag: "assemblyscript"},
		{name: "wat", lang: toolchain.WAT, src: "wat/plugin.wat", tag: "wat"},
	}
}

const pluginConfig = `{"greeting":"hello"}`

// buildVariant builds v (cached) or skips the test when its toolchain is
// missing; with CONFORMANCE_REQUIRE=all a missing toolchain fails instead.
func buildVariant(t *testing.T, v variant) string {
	t.Helper()
	root, err := toolchainRoot()
	require.NoError(t, err)
	tc, opts, err := findVariant(v, root)
	if err != nil {
		if os.Getenv("CONFORMANCE_REQUIRE") == "all" {
			t.Fatalf("conformance %s: %v (CONFORMANCE_REQUIRE=all)", v.name, err)
		}
		t.Skipf("conformance %s skipped: %v", v.name, err)
	}
	cache, err := wasmtest.CacheDir()
	require.NoError(t, err)
	src, err := filepath.Abs(v.src)
	require.NoError(t, err)
	out, err := tc.BuildCached(t.Context(), src, filepath.Join(cache, "conformance"), opts)
	require.NoError(t, err)
	return out
}

func toolchainRoot() (string, error) { return toolchain.Root(".") }

// findVariant locates the toolchain that builds v.
func findVariant(v variant, root string) (toolchain.Toolchain, toolchain.Options, error) {
	opts := toolchain.Options{Root: root, NoLibc: v.noLibc}
	tc, err := toolchain.Find(v.lang, opts)
	return tc, opts, err
}

// upstream records the last request it served.
type upstream struct {
	mu     sync.Mutex
	calls  int
	path   string
	header http.Header
	body   string
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.calls++
	u.path, u.header, u.body = r.URL.Path, r.Header.Clone(), string(b)
	u.mu.Unlock()
	w.Header().Set("X-Upstream-Secret", "s3cret")
	w.Header().Set("X-Upstream-Kept", "yes")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "upstream")
}

func (u *upstream) last() (int, string, http.Header, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls, u.path, u.header, u.body
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is one loaded conformance plugin with what the checks observe.
type env struct {
	v    variant
	name string
	gw   *wasmtest.Gateway
	up   *upstream
	reg  *prometheus.Registry
	logs *logBuffer
}

func (e *env) do(r *http.Request) *httptest.ResponseRecorder {
	return e.gw.Do(r, &pipeline.Request{ClientIP: "192.0.2.1", RequestID: "conf-1"})
}

func (e *env) counter(t *testing.T) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "conformance_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "plugin" && l.GetValue() == e.name {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// behaviours is the conformance table: every plugin must pass every row.
var behaviours = []struct {
	name  string
	check func(t *testing.T, e *env)
}{
	{"reads config", func(t *testing.T, e *env) {
		w := e.do(httptest.NewRequest("GET", "/", nil))
		require.Equal(t, 200, w.Code)
		_, _, h, _ := e.up.last()
		assert.Equal(t, pluginConfig, h.Get("X-Conf-Config"))
	}},
	{"adds and removes request headers", func(t *testing.T, e *env) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Conf-Remove", "1")
		r.Header.Set("X-Other", "kept")
		require.Equal(t, 200, e.do(r).Code)
		_, _, h, _ := e.up.last()
		assert.Equal(t, []string{e.v.tag}, h.Values("X-Conf-Lang"))
		assert.Empty(t, h.Values("X-Conf-Remove"))
		assert.Equal(t, "kept", h.Get("X-Other"))
	}},
	{"adds and removes response headers", func(t *testing.T, e *env) {
		w := e.do(httptest.NewRequest("GET", "/", nil))
		require.Equal(t, 200, w.Code)
		assert.Equal(t, e.v.tag, w.Header().Get("X-Conf-Resp"))
		assert.Empty(t, w.Header().Values("X-Upstream-Secret"))
		assert.Equal(t, "yes", w.Header().Get("X-Upstream-Kept"))
		assert.Equal(t, "upstream", w.Body.String())
	}},
	{"rewrites path", func(t *testing.T, e *env) {
		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/old", nil)).Code)
		_, p, _, _ := e.up.last()
		assert.Equal(t, "/new", p)
		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/older", nil)).Code)
		_, p, _, _ = e.up.last()
		assert.Equal(t, "/older", p)
	}},
	{"reads and replaces body", func(t *testing.T, e *env) {
		require.Equal(t, 200, e.do(httptest.NewRequest("POST", "/", strings.NewReader("abc"))).Code)
		_, _, _, body := e.up.last()
		assert.Equal(t, "[abc]", body)
	}},
	{"short-circuits with 401", func(t *testing.T, e *env) {
		before, _, _, _ := e.up.last()
		w := e.do(httptest.NewRequest("GET", "/private", nil))
		assert.Equal(t, 401, w.Code)
		assert.Equal(t, "unauthorized", w.Body.String())
		after, _, _, _ := e.up.last()
		assert.Equal(t, before, after, "upstream not called")

		r := httptest.NewRequest("GET", "/private", nil)
		r.Header.Set("Authorization", "Bearer x")
		assert.Equal(t, 200, e.do(r).Code)
		after, p, _, _ := e.up.last()
		assert.Equal(t, before+1, after)
		assert.Equal(t, "/private", p)
	}},
	{"uses KV", func(t *testing.T, e *env) {
		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/", nil)).Code)
		_, _, h, _ := e.up.last()
		first := h.Get("X-Conf-Visits")
		require.NotEmpty(t, first)
		assert.Equal(t, strings.Repeat("x", len(first)), first)
		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/", nil)).Code)
		_, _, h, _ = e.up.last()
		assert.Equal(t, first+"x", h.Get("X-Conf-Visits"))
	}},
	{"emits a metric", func(t *testing.T, e *env) {
		before := e.counter(t)
		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/", nil)).Code)
		assert.Equal(t, before+1, e.counter(t))
	}},
	{"logs", func(t *testing.T, e *env) {
		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/", nil)).Code)
		logs := e.logs.String()
		assert.Contains(t, logs, `msg="conformance request from `+e.v.tag+`"`)
		assert.Contains(t, logs, "plugin="+e.name)
	}},
	{"computes digests on the host", func(t *testing.T, e *env) {
		mac := func(h func() hash.Hash) string {
			m := hmac.New(h, []byte("key"))
			m.Write([]byte("data"))
			return hex.EncodeToString(m.Sum(nil))
		}
		sum := sha256.Sum256([]byte("abc"))
		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/digest", nil)).Code)
		_, p, h, _ := e.up.last()
		assert.Equal(t, "/digest", p)
		assert.Equal(t, hex.EncodeToString(sum[:]), h.Get("X-Conf-SHA256"))
		assert.Equal(t, mac(sha256.New), h.Get("X-Conf-HMAC-SHA256"))
		assert.Equal(t, mac(sha512.New), h.Get("X-Conf-HMAC-SHA512"))
		assert.Equal(t, strconv.Itoa(int(abi.ResultInvalid)), h.Get("X-Conf-Digest-Invalid"), "a key given to a plain digest")

		require.Equal(t, 200, e.do(httptest.NewRequest("GET", "/", nil)).Code)
		_, _, h, _ = e.up.last()
		assert.Empty(t, h.Values("X-Conf-SHA256"), "digests only on /digest")
	}},
}

func TestConformance(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			module := buildVariant(t, v)
			e := &env{v: v, name: "conformance-" + v.name, up: &upstream{}, reg: prometheus.NewRegistry(), logs: &logBuffer{}}
			e.gw = wasmtest.New(t, wasm.Options{
				KV:         kv.NewMemory(),
				Registerer: e.reg,
				Logger:     slog.New(slog.NewTextHandler(e.logs, nil)),
			}, e.up, &config.Plugin{
				Name:       e.name,
				Source:     module,
				ConfigJSON: []byte(pluginConfig),
				Timeout:    10 * time.Second,
			})
			for _, b := range behaviours {
				t.Run(b.name, func(t *testing.T) { b.check(t, e) })
			}
		})
	}
}
