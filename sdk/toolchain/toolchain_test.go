package toolchain_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/toolchain"
)

func TestParseLang(t *testing.T) {
	for _, tc := range []struct {
		in     string
		exp    toolchain.Lang
		expErr string
	}{
		{in: "go", exp: toolchain.Go},
		{in: "Rust", exp: toolchain.Rust},
		{in: "c", exp: toolchain.C},
		{in: "as", exp: toolchain.AssemblyScript},
		{in: "assemblyscript", exp: toolchain.AssemblyScript},
		{in: "wat", exp: toolchain.WAT},
		{in: "cobol", expErr: `unknown plugin language "cobol": use one of go, rust, c, assemblyscript, wat`},
	} {
		got, err := toolchain.ParseLang(tc.in)
		if tc.expErr != "" {
			assert.EqualError(t, err, tc.expErr)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.exp, got)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in, expFile string
		exp         toolchain.Lang
		expErr      string
	}{
		{in: "goplug", exp: toolchain.Go, expFile: "goplug"},
		{in: "rustplug", exp: toolchain.Rust, expFile: "rustplug/src/lib.rs"},
		{in: "cplug", exp: toolchain.C, expFile: "cplug/src/plugin.c"},
		{in: "asplug", exp: toolchain.AssemblyScript, expFile: "asplug/plugin.ts"},
		{in: "watplug", exp: toolchain.WAT, expFile: "watplug/plugin.wat"},
		{in: "watplug/plugin.wat", exp: toolchain.WAT, expFile: "watplug/plugin.wat"},
		{in: "empty", expErr: "detect plugin language of testdata/detect/empty: no main.go, src/lib.rs, plugin.rs, plugin.c, plugin.ts or plugin.wat in it"},
		{in: "empty/.keep", expErr: "detect plugin language of testdata/detect/empty/.keep: unknown extension; use .go, .rs, .c, .ts or .wat"},
	} {
		lang, file, err := toolchain.Detect(filepath.Join("testdata", "detect", tc.in))
		if tc.expErr != "" {
			assert.EqualError(t, err, tc.expErr)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.exp, lang, tc.in)
		assert.Equal(t, filepath.Join("testdata", "detect", tc.expFile), file, tc.in)
	}
}

func TestInstallNamesEveryLanguage(t *testing.T) {
	for _, l := range toolchain.Langs() {
		assert.NotEmpty(t, toolchain.Install(l), l)
	}
	assert.Equal(t, "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32", toolchain.Install(toolchain.C))
}

func TestBuildCachedWAT(t *testing.T) {
	tc, err := toolchain.Find(toolchain.WAT, toolchain.Options{})
	if err != nil {
		t.Skipf("%v", err)
	}
	root, err := toolchain.Root(".")
	require.NoError(t, err)
	src, err := filepath.Abs("testdata/detect/watplug/plugin.wat")
	require.NoError(t, err)
	cache := t.TempDir()
	opts := toolchain.Options{Root: root}
	first, err := tc.BuildCached(t.Context(), src, cache, opts)
	require.NoError(t, err)
	st1, err := os.Stat(first)
	require.NoError(t, err)
	b, err := os.ReadFile(first)
	require.NoError(t, err)
	assert.Equal(t, []byte("\x00asm"), b[:4])

	again, err := tc.BuildCached(t.Context(), src, cache, opts)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	st2, err := os.Stat(again)
	require.NoError(t, err)
	assert.Equal(t, st1.ModTime(), st2.ModTime(), "cache hit: not rebuilt")

	_, err = tc.BuildCached(t.Context(), filepath.Join(t.TempDir(), "missing.wat"), cache, opts)
	assert.ErrorContains(t, err, "build wat plugin ")
}

func TestFindUnknownLanguage(t *testing.T) {
	_, err := toolchain.Find("cobol", toolchain.Options{})
	assert.EqualError(t, err, `find toolchain: unknown language "cobol"`)
}
