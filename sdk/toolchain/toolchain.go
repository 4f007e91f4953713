package toolchain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Lang is a plugin source language.
type Lang string

// The supported languages.
const (
	Go             Lang = "go"
	Rust           Lang = "rust"
	C              Lang = "c"
	AssemblyScript Lang = "assemblyscript"
	WAT            Lang = "wat"
)

// Langs returns every supported language, in documentation order.
func Langs() []Lang { return []Lang{Go, Rust, C, AssemblyScript, WAT} }

// ParseLang returns the language named s ("as" and "ts" mean AssemblyScript).
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(s) {
	case "go":
		return Go, nil
	case "rust", "rs":
		return Rust, nil
	case "c":
		return C, nil
	case "assemblyscript", "as", "ts":
		return AssemblyScript, nil
	case "wat":
		return WAT, nil
	}
	return "", fmt.Errorf("unknown plugin language %q: use one of go, rust, c, assemblyscript, wat", s)
}

// Detect returns the language of the plugin source at path: a file by its
// extension, a directory by the files it holds.
func Detect(path string) (Lang, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("detect plugin language of %s: %w", path, err)
	}
	if !st.IsDir() {
		switch filepath.Ext(path) {
		case ".go":
			return Go, filepath.Dir(path), nil
		case ".rs":
			return Rust, path, nil
		case ".c":
			return C, path, nil
		case ".ts":
			return AssemblyScript, path, nil
		case ".wat":
			return WAT, path, nil
		}
		return "", "", fmt.Errorf("detect plugin language of %s: unknown extension; use .go, .rs, .c, .ts or .wat", path)
	}
	for _, c := range []struct {
		file string
		lang Lang
	}{
		{"main.go", Go}, {"src/lib.rs", Rust}, {"lib.rs", Rust}, {"plugin.rs", Rust},
		{"plugin.c", C}, {"src/plugin.c", C}, {"assembly/index.ts", AssemblyScript}, {"plugin.ts", AssemblyScript}, {"plugin.wat", WAT},
	} {
		p := filepath.Join(path, c.file)
		if _, err := os.Stat(p); err == nil {
			if c.lang == Go {
				return Go, path, nil
			}
			return c.lang, p, nil
		}
	}
	return "", "", fmt.Errorf("detect plugin language of %s: no main.go, src/lib.rs, plugin.rs, plugin.c, plugin.ts or plugin.wat in it", path)
}

// Install returns the command that installs the toolchain of lang on Debian.
func Install(lang Lang) string {
	switch lang {
	case Go:
		return "install Go 1.24 or later (https://go.dev/dl)"
	case Rust:
		return "apt-get install rustc libstd-rust-dev-wasm32"
	case C:
		return "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32"
	case AssemblyScript:
		return "apt-get install nodejs npm && (cd sdk/assemblyscript && npm ci)"
	case WAT:
		return "apt-get install wabt"
	}
	return ""
}

// Toolchain is a located compiler for one language.
type Toolchain struct {
	// Lang is the language.
	Lang Lang
	// Tool is the compiler's path (go, rustc, clang, asc, wat2wasm).
	Tool string
	// Libc reports, for C, whether wasi-libc is installed.
	Libc bool
}

// Options locate the SDKs the builds need.
type Options struct {
	// Root is the gateway repository root (holding sdk/). Required for Rust,
	// C and AssemblyScript (their SDK sources) and Go (go.mod).
	Root string
	// NoLibc builds C without wasi-libc (-nostdlib).
	NoLibc bool
}

// ErrMissing is wrapped by Find's error when the toolchain is not installed.
var ErrMissing = errors.New("toolchain not installed")

// Find locates the toolchain of lang; the error names the install command.
func Find(lang Lang, opts Options) (Toolchain, error) {
	missing := func(what string) (Toolchain, error) {
		return Toolchain{}, fmt.Errorf("%s: %w: %s", what, ErrMissing, Install(lang))
	}
	switch lang {
	case Go:
		p, err := exec.LookPath("go")
		if err != nil {
			return missing("go not found")
		}
		return Toolchain{Lang: lang, Tool: p}, nil
	case Rust:
		for _, c := range rustcCandidates() {
			out, err := exec.Command(c, "--print", "sysroot").Output()
			if err != nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(out)), "lib", "rustlib", "wasm32-wasi")); err == nil {
				return Toolchain{Lang: lang, Tool: c}, nil
			}
		}
		return missing("rustc with the wasm32-wasi target not found")
	case C:
		p, err := exec.LookPath("clang")
		if err != nil {
			return missing("clang not installed")
		}
		if _, err := exec.LookPath("wasm-ld"); err != nil {
			return missing("wasm-ld (lld) not installed")
		}
		out, _ := exec.Command(p, "--target=wasm32-wasi", "-print-file-name=libc.a").Output()
		libc := filepath.IsAbs(strings.TrimSpace(string(out)))
		if !libc && !opts.NoLibc {
			return missing("wasi-libc not installed for clang")
		}
		return Toolchain{Lang: lang, Tool: p, Libc: libc}, nil
	case AssemblyScript:
		if _, err := exec.LookPath("node"); err != nil {
			return missing("node not installed")
		}
		asc := filepath.Join(opts.Root, "sdk", "assemblyscript", "node_modules", ".bin", "asc")
		if _, err := os.Stat(asc); err != nil {
			return missing("asc not found at " + asc)
		}
		return Toolchain{Lang: lang, Tool: asc}, nil
	case WAT:
		p, err := exec.LookPath("wat2wasm")
		if err != nil {
			return missing("wat2wasm not installed")
		}
		return Toolchain{Lang: lang, Tool: p}, nil
	}
	return Toolchain{}, fmt.Errorf("find toolchain: unknown language %q", lang)
}

// rustcCandidates lists rustc binaries to try: $RUSTC, Debian's, then PATH's.
func rustcCandidates() []string {
	var cs []string
	if r := os.Getenv("RUSTC"); r != "" {
		cs = append(cs, r)
	}
	cs = append(cs, "/usr/bin/rustc")
	if p, err := exec.LookPath("rustc"); err == nil {
		cs = append(cs, p)
	}
	return cs
}

// Commands returns the commands that build src (a file, or a directory for
// Go) into out. They run in the directory of src.
func (tc Toolchain) Commands(src, out string, opts Options) ([][]string, []string, error) {
	switch tc.Lang {
	case Go:
		return [][]string{{tc.Tool, "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s", "-o", out, "."}},
			[]string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}, nil
	case Rust:
		rlib := rlibPath(out)
		return [][]string{
			{tc.Tool, "--edition", "2018", "--target", "wasm32-wasi", "--crate-type", "rlib", "--crate-name", "gateway_plugin",
				"-C", "opt-level=s", "-C", "panic=abort", filepath.Join(opts.Root, "sdk", "rust", "src", "lib.rs"), "-o", rlib},
			{tc.Tool, "--edition", "2018", "--target", "wasm32-wasi", "--crate-type", "cdylib", "-C", "opt-level=s",
				"-C", "strip=symbols", "-C", "panic=abort", "-C", "lto", "--extern", "gateway_plugin=" + rlib, src, "-o", out},
		}, nil, nil
	case C:
		inc := "-I" + filepath.Join(opts.Root, "sdk", "c")
		if opts.NoLibc {
			return [][]string{{tc.Tool, "--target=wasm32", "-nostdlib", "-Os", "-Wl,--no-entry", "-Wl,--strip-all", inc, "-o", out, src}}, nil, nil
		}
		return [][]string{{tc.Tool, "--target=wasm32-wasi", "-mexec-model=reactor", "-Os", "-Wl,--strip-all", inc, "-o", out, src}}, nil, nil
	case AssemblyScript:
		return [][]string{{tc.Tool, src, "-o", out, "-O3", "--use", "abort=", "--exportStart", "_initialize"}}, nil, nil
	case WAT:
		return [][]string{{tc.Tool, src, "-o", out}}, nil, nil
	}
	return nil, nil, fmt.Errorf("build: unknown language %q", tc.Lang)
}

// Build compiles src into out.
func (tc Toolchain) Build(ctx context.Context, src, out string, opts Options) error {
	cmds, env, err := tc.Commands(src, out, opts)
	if err != nil {
		return err
	}
	dir := src
	if st, err := os.Stat(src); err == nil && !st.IsDir() {
		dir = filepath.Dir(src)
	}
	for _, c := range cmds {
		cmd := exec.CommandContext(ctx, c[0], c[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s plugin %s: %s: %w\n%s", tc.Lang, src, strings.Join(c, " "), err, b)
		}
	}
	if tc.Lang == Rust {
		_ = os.Remove(rlibPath(out))
	}
	return nil
}

// BuildCached builds src into cacheDir, named by a hash of the sources, the
// SDK of the language, abi/ and the tool path, and returns the .wasm path. An
// existing module with the same hash is reused without running the compiler.
func (tc Toolchain) BuildCached(ctx context.Context, src, cacheDir string, opts Options) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00", tc.Lang, tc.Tool, opts.NoLibc)
	hashDirs := []string{src, filepath.Join(opts.Root, "abi")}
	switch tc.Lang {
	case Go:
		hashDirs = append(hashDirs, filepath.Join(opts.Root, "sdk", "go"), filepath.Join(opts.Root, "go.mod"), filepath.Join(opts.Root, "go.sum"))
	case Rust:
		hashDirs = append(hashDirs, filepath.Join(opts.Root, "sdk", "rust", "src"))
	case C:
		hashDirs = append(hashDirs, filepath.Join(opts.Root, "sdk", "c"))
	case AssemblyScript:
		hashDirs = append(hashDirs, filepath.Join(opts.Root, "sdk", "assemblyscript", "assembly"), filepath.Join(opts.Root, "sdk", "assemblyscript", "package-lock.json"))
	}
	for _, d := range hashDirs {
		if err := hashTree(h, d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("hash %s: %w", d, err)
		}
	}
	name := filepath.Base(src)
	if st, err := os.Stat(src); err == nil && !st.IsDir() {
		name = filepath.Base(filepath.Dir(src)) + "-" + strings.TrimSuffix(name, filepath.Ext(name))
	}
	out := filepath.Join(cacheDir, fmt.Sprintf("%s-%s-%s.wasm", name, tc.Lang, hex.EncodeToString(h.Sum(nil))[:16]))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("create build cache %s: %w", cacheDir, err)
	}
	// A unique temporary name: concurrent builds of the same source only
	// duplicate work, the rename is atomic.
	f, err := os.CreateTemp(cacheDir, name+"-*.tmp.wasm")
	if err != nil {
		return "", fmt.Errorf("create build output in %s: %w", cacheDir, err)
	}
	tmp := f.Name()
	_ = f.Close()
	defer os.Remove(tmp)
	if err := tc.Build(ctx, src, tmp, opts); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return "", fmt.Errorf("store built plugin: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("store built plugin: %w", err)
	}
	return out, nil
}

// hashTree adds every file under path (a file or a directory, sorted) to h,
// skipping .wasm files and node_modules.
func hashTree(h io.Writer, path string) error {
	var files []string
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
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

// Root walks up from dir to the gateway repository root: the directory
// holding go.mod and sdk/.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "sdk", "c", "gateway.h")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no gateway repository (with sdk/c/gateway.h) above %s; run inside the repository or pass --sdk", dir)
		}
	}
}

// rlibPath is where a Rust build of out keeps the SDK rlib; rustc wants the
// lib*.rlib form for --extern.
func rlibPath(out string) string {
	return filepath.Join(filepath.Dir(out), "lib"+strings.ReplaceAll(strings.TrimSuffix(filepath.Base(out), ".wasm"), ".", "_")+"_sdk.rlib")
}
