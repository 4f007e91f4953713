// Package wasmtest builds plugins to .wasm at test time and runs them through
// the real host (host/wasm) and pipeline (host/pipeline) in a Go test.
//
// Builds are cached by a hash of the plugin's sources, the SDK, abi, go.mod and
// the Go version, in $WASMTEST_CACHE or os.UserCacheDir()/wasmgate/wasmtest,
// so reruns skip the compiler.
package wasmtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
)

// buildMu serializes builds in one test binary (parallel tests share the cache).
var buildMu sync.Mutex

// CacheDir returns the build cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv("WASMTEST_CACHE"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the user cache dir: %w; set WASMTEST_CACHE", err)
	}
	return filepath.Join(base, "wasmgate", "wasmtest"), nil
}

// moduleRoot walks up from dir to the directory holding go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s; build plugins inside the gateway module", dir)
		}
	}
}

// hashTree adds every file under dir (sorted) to h.
func hashTree(h io.Writer, dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(p) != ".wasm" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		_, _ = h.Write(b)
	}
	return nil
}

// BuildPlugin compiles the Go plugin in dir (a main package) with
// GOOS=wasip1 GOARCH=wasm -buildmode=c-shared and returns the .wasm path.
func BuildPlugin(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	root, err := moduleRoot(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", runtime.Version(), dir, ldflags)
	for _, d := range []string{dir, filepath.Join(root, "abi"), filepath.Join(root, "sdk", "go", "plugin"), filepath.Join(root, "sdk", "go", "function"), filepath.Join(root, "sdk", "go", "internal")} {
		if err := hashTree(h, d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("hash %s: %w", d, err)
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if b, err := os.ReadFile(filepath.Join(root, f)); err == nil {
			_, _ = h.Write(b)
		}
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	out := filepath.Join(cache, filepath.Base(dir)+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".wasm")
	buildMu.Lock()
	defer buildMu.Unlock()
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("create cache dir %s: %w", cache, err)
	}
	tmp := out + ".tmp"
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags="+ldflags, "-o", tmp, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build plugin %s: %w\n%s", dir, err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// BuildWAT compiles a .wat file with wat2wasm into t.TempDir(). It skips the
// test when wat2wasm is not installed.
func BuildWAT(t testing.TB, watFile string) string {
	t.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not found; install wabt (apt-get install wabt) to run WAT fixture tests")
	}
	out := filepath.Join(t.TempDir(), filepath.Base(watFile)+".wasm")
	b, err := exec.Command(bin, watFile, "-o", out).CombinedOutput()
	require.NoError(t, err, "wat2wasm %s: %s", watFile, b)
	return out
}

// Build is BuildPlugin failing the test on error.
func Build(t testing.TB, dir string) string {
	t.Helper()
	p, err := BuildPlugin(dir)
	require.NoError(t, err)
	return p
}

// Gateway is a host plus a chain around a final handler.
type Gateway struct {
	Host    *wasm.Host
	Plugins []*wasm.Plugin
	Chain   *pipeline.Chain
	Next    http.Handler
}

// New loads plugins into a new host (opts.CacheDir defaults to a wazero
// compilation cache beside the build cache) and chains them around next;
// everything is closed at test cleanup.
func New(t testing.TB, opts wasm.Options, next http.Handler, plugins ...*config.Plugin) *Gateway {
	t.Helper()
	if opts.CacheDir == "" {
		dir, err := CacheDir()
		require.NoError(t, err)
		opts.CacheDir = filepath.Join(dir, "wazero")
	}
	h, err := wasm.New(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close(context.WithoutCancel(t.Context()))) })
	g := &Gateway{Host: h, Next: next}
	var ps []pipeline.Plugin
	for _, pc := range plugins {
		p, err := h.Load(t.Context(), pc)
		require.NoError(t, err)
		g.Plugins = append(g.Plugins, p)
		ps = append(ps, p)
	}
	g.Chain = pipeline.New(ps, pipeline.Options{})
	return g
}

// Do serves r through the chain and returns the recorded response.
func (g *Gateway) Do(r *http.Request, info *pipeline.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	g.Chain.Handle(w, r, info, g.Next)
	return w
}
