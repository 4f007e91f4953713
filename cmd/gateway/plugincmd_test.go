package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
	"github.com/wasmgate/gateway/sdk/toolchain"
)

// buildExample builds src (relative to the repository root) with its
// toolchain (cached), skipping when the toolchain is missing.
func buildExample(t *testing.T, lang toolchain.Lang, src string) string {
	t.Helper()
	root, err := toolchain.Root(".")
	require.NoError(t, err)
	opts := toolchain.Options{Root: root}
	tc, err := toolchain.Find(lang, opts)
	if err != nil {
		t.Skipf("%s: %v", src, err)
	}
	cache, err := wasmtest.CacheDir()
	require.NoError(t, err)
	out, err := tc.BuildCached(t.Context(), filepath.Join(root, src), filepath.Join(cache, "plugincmd"), opts)
	require.NoError(t, err)
	return out
}

func runCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestPluginInspectExamples(t *testing.T) {
	for _, tc := range []struct {
		lang       toolchain.Lang
		src        string
		phases     []string
		imports    []string // a subset of the gateway_v1 imports
		initialize bool
		configure  bool
	}{
		{toolchain.WAT, "examples/wat/hello/plugin.wat", []string{"on_request_headers", "on_response_headers"},
			[]string{"config_get(i32 i32) -> i32", "header_set(i32 i32 i32 i32 i32)"}, false, true},
		{toolchain.C, "examples/c/hello/src/plugin.c", []string{"on_request_headers", "on_response_headers"},
			[]string{"config_get(i32 i32) -> i32", "set_error(i32 i32)"}, true, true},
		{toolchain.Rust, "examples/rust/hello/src/lib.rs", []string{"on_request_headers", "on_response_headers"},
			[]string{"log(i32 i32 i32)", "path_get(i32 i32) -> i32"}, false, true},
		{toolchain.AssemblyScript, "examples/assemblyscript/hello/plugin.ts", []string{"on_request_headers", "on_response_headers"},
			[]string{"log(i32 i32 i32)"}, true, true},
		{toolchain.WAT, "plugins/conformance/wat/plugin.wat", []string{"on_request_body", "on_request_headers", "on_response_headers"},
			[]string{"kv_set(i32 i32 i32 i32 i64) -> i32", "metric_add(i32 f64)"}, false, true},
		{toolchain.WAT, "sdk/wat/minimal.wat", []string{"on_request_headers"}, nil, false, false},
		{toolchain.WAT, "sdk/wat/auth401.wat", []string{"on_request_headers"},
			[]string{"header_get(i32 i32 i32 i32 i32) -> i32", "send_response(i32 i32 i32)"}, false, false},
	} {
		t.Run(tc.src, func(t *testing.T) {
			wasmFile := buildExample(t, tc.lang, tc.src)
			code, out, errOut := runCmd("plugin", "inspect", "--json", wasmFile)
			require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errOut)
			var in Inspection
			require.NoError(t, json.Unmarshal([]byte(out), &in))
			b, err := os.ReadFile(wasmFile)
			require.NoError(t, err)
			sum := sha256.Sum256(b)
			assert.Equal(t, hex.EncodeToString(sum[:]), in.SHA256)
			assert.Equal(t, int64(len(b)), in.Size)
			assert.Equal(t, 1, in.ABIVersion)
			assert.Equal(t, tc.phases, in.Phases)
			assert.Equal(t, tc.configure, in.Configure)
			assert.Equal(t, tc.initialize, in.Initialize)
			assert.Positive(t, in.MemoryMin)
			assert.Subset(t, in.HostImports, tc.imports)
			assert.Empty(t, in.Problems)

			code, text, _ := runCmd("plugin", "inspect", wasmFile)
			assert.Equal(t, 0, code)
			assert.Contains(t, text, "abi version:  1\n")
			assert.Contains(t, text, "sha256:       "+in.SHA256)
		})
	}
}

func TestPluginInspectProblems(t *testing.T) {
	if _, err := toolchain.Find(toolchain.WAT, toolchain.Options{}); err != nil {
		t.Skipf("%v", err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, wat string
		problems  []string
	}{
		{"no marker, no phase", `(module (memory (export "memory") 1))`, []string{
			"no gateway_abi_v1 export: the host refuses it; link an SDK or export the marker",
			"no phase exported (on_request_headers, on_request_body, on_response_headers, on_response_body, on_log)",
		}},
		{"v2 and a foreign import", `(module (import "env" "f" (func)) (memory (export "memory") 1)
			(func (export "gateway_abi_v2")) (func (export "on_log")))`, []string{
			"ABI version 2: this gateway supports version 1",
			"import env.f: only gateway_v1 and wasi_snapshot_preview1 are allowed",
		}},
		{"no memory", `(module (func (export "gateway_abi_v1")) (func (export "on_log")))`, []string{
			"no exported memory named memory",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".wat")
			require.NoError(t, os.WriteFile(src, []byte(tc.wat), 0o644))
			tcw, err := toolchain.Find(toolchain.WAT, toolchain.Options{})
			require.NoError(t, err)
			out := src + ".wasm"
			require.NoError(t, tcw.Build(t.Context(), src, out, toolchain.Options{}))
			code, stdout, _ := runCmd("plugin", "inspect", "--json", out)
			assert.Equal(t, 1, code)
			var in Inspection
			require.NoError(t, json.Unmarshal([]byte(stdout), &in))
			assert.Equal(t, tc.problems, in.Problems)
		})
	}
	code, _, errOut := runCmd("plugin", "inspect", filepath.Join(dir, "missing.wasm"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "read plugin: open ")
}

func TestPluginRun(t *testing.T) {
	module := buildExample(t, toolchain.WAT, "plugins/conformance/wat/plugin.wat")
	for _, tc := range []struct {
		name   string
		args   []string
		expect []string
		absent []string
	}{
		{"short-circuit", []string{"--request", "GET /private"}, []string{
			"--- upstream not called (the plugin responded)\n", "--- response\n401 Unauthorized\n", "\nunauthorized\n",
		}, []string{"--- upstream request"}},
		{"rewrite, headers and body", []string{"--request", "POST /old", "--body", "abc", "--header", "X-Conf-Remove: 1", "--config", `{"a":1}`}, []string{
			"--- upstream request\nPOST /new\n", "X-Conf-Config: {\"a\":1}\n", "X-Conf-Lang: wat\n", "X-Conf-Visits: x\n", "\n[abc]\n",
			"--- response\n200 OK\n", "X-Conf-Resp: wat\n", "\nupstream\n",
		}, []string{"X-Conf-Remove"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(append(append([]string{"plugin", "run"}, tc.args...), module)...)
			require.Equal(t, 0, code, "stdout %s\nstderr %s", out, errOut)
			for _, e := range tc.expect {
				assert.Contains(t, out, e)
			}
			for _, a := range tc.absent {
				assert.NotContains(t, out, a)
			}
			assert.Contains(t, errOut, `msg="conformance request from wat"`)
		})
	}
	auth := buildExample(t, toolchain.WAT, "sdk/wat/auth401.wat")
	code, out, _ := runCmd("plugin", "run", auth)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "--- response\n401 Unauthorized\n")
	code, out, _ = runCmd("plugin", "run", "--header", "Authorization: x", auth)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "--- response\n200 OK\n")

	code, _, errOut := runCmd("plugin", "run", "--request", "nonsense", module)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `want "METHOD /path"`)
}

func TestPluginNew(t *testing.T) {
	for _, lang := range []string{"go", "rust", "c", "assemblyscript"} {
		t.Run(lang, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-plugin")
			code, out, errOut := runCmd("plugin", "new", "--lang", lang, "--dir", dir, "my-plugin")
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, `created `+lang+` plugin "my-plugin"`)
			test, err := os.ReadFile(filepath.Join(dir, "plugin_test.go"))
			require.NoError(t, err)
			formatted, err := format.Source(test)
			require.NoError(t, err, "the generated test must be valid Go")
			assert.Equal(t, string(formatted), string(test), "the generated test must be gofmt-clean")
			assert.Contains(t, string(test), `toolchain.Find("`+lang+`"`)

			code, _, errOut = runCmd("plugin", "new", "--lang", lang, "--dir", dir, "my-plugin")
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, "already exists")
		})
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--lang", "cobol", "x"}, `unknown plugin language "cobol": use one of go, rust, c, assemblyscript, wat`},
		{[]string{"--lang", "wat", "x"}, `no scaffold for "wat"`},
		{[]string{"Bad_Name"}, "lowercase letters, digits and dashes"},
	} {
		code, _, errOut := runCmd(append([]string{"plugin", "new", "--dir", t.TempDir() + "/x"}, tc.args...)...)
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, tc.err)
	}
}

func TestPluginNewBuildRun(t *testing.T) {
	for _, lang := range []toolchain.Lang{toolchain.C, toolchain.Rust} {
		t.Run(string(lang), func(t *testing.T) {
			root, err := toolchain.Root(".")
			require.NoError(t, err)
			if _, err := toolchain.Find(lang, toolchain.Options{Root: root}); err != nil {
				t.Skipf("%v", err)
			}
			dir := filepath.Join(t.TempDir(), "greeter")
			code, _, errOut := runCmd("plugin", "new", "--lang", string(lang), "--dir", dir, "greeter")
			require.Equal(t, 0, code, errOut)
			out := filepath.Join(t.TempDir(), "greeter.wasm")
			code, stdout, errOut := runCmd("plugin", "build", "--sdk", root, "-o", out, dir)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, stdout, "built "+out+" ("+string(lang)+", ")
			code, stdout, errOut = runCmd("plugin", "run", "--config", `{"greeting":"bonjour"}`, out)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, stdout, "X-Hello: bonjour\n")
			assert.Contains(t, stdout, "X-Plugin: greeter\n")
		})
	}
}
