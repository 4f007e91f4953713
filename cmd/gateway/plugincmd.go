package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/pipeline"
	"github.com/wasmgate/gateway/host/wasm"
	"github.com/wasmgate/gateway/sdk/toolchain"
)

const pluginUsage = `usage: gateway plugin <command> [flags]

commands:
  new      --lang go|rust|c|assemblyscript [--dir DIR] NAME   scaffold a plugin with a test
  build    [-o OUT.wasm] [--lang LANG] [--nolibc] [SRC]        compile a plugin (SRC: file or dir, default .)
  inspect  [--json] FILE.wasm                                   ABI version, phases, imports, memory, size, sha256
  run      [flags] FILE.wasm                                    run one request through a plugin, print the result
`

// cmdPlugin dispatches the plugin subcommands.
func cmdPlugin(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, pluginUsage)
		return 2
	}
	switch args[0] {
	case "new":
		return cmdPluginNew(args[1:], stdout, stderr)
	case "build":
		return cmdPluginBuild(args[1:], stdout, stderr)
	case "inspect":
		return cmdPluginInspect(args[1:], stdout, stderr)
	case "run":
		return cmdPluginRun(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, pluginUsage)
		return 0
	}
	fmt.Fprintf(stderr, "gateway plugin: unknown command %q\n\n%s", args[0], pluginUsage)
	return 2
}

// parseInterspersed parses flags that may follow positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// Inspection is what `gateway plugin inspect` reports about a module.
type Inspection struct {
	File        string   `json:"file"`
	Size        int64    `json:"size"`
	SHA256      string   `json:"sha256"`
	ABIVersion  int      `json:"abi_version"` // 0: no gateway_abi_v* marker
	Phases      []string `json:"phases"`
	Exports     []string `json:"exports"`
	HostImports []string `json:"host_imports"` // gateway_v1 functions with signatures
	WASIImports []string `json:"wasi_imports"`
	Other       []string `json:"other_imports,omitempty"`
	MemoryMin   uint32   `json:"memory_min_pages"`
	MemoryMax   *uint32  `json:"memory_max_pages,omitempty"`
	Initialize  bool     `json:"initialize"`
	Configure   bool     `json:"configure"`
	Problems    []string `json:"problems,omitempty"`
}

var abiMarker = regexp.MustCompile(`^` + abi.ExportABIMarkerPrefix + `(\d+)$`)

// inspectModule compiles path with wazero (interpreter, nothing runs) and
// describes its exports and imports.
func inspectModule(ctx context.Context, path string) (*Inspection, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plugin: %w", err)
	}
	sum := sha256.Sum256(b)
	in := &Inspection{File: path, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	m, err := r.CompileModule(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w; is it a WebAssembly module?", path, err)
	}
	phases := map[string]bool{abi.ExportOnRequestHeaders: true, abi.ExportOnRequestBody: true,
		abi.ExportOnResponseHeaders: true, abi.ExportOnResponseBody: true, abi.ExportOnLog: true}
	for name, d := range m.ExportedFunctions() {
		in.Exports = append(in.Exports, name+signature(d))
		if mm := abiMarker.FindStringSubmatch(name); mm != nil {
			_, _ = fmt.Sscan(mm[1], &in.ABIVersion)
		}
		if phases[name] {
			in.Phases = append(in.Phases, name)
		}
		in.Initialize = in.Initialize || name == abi.ExportInitialize
		in.Configure = in.Configure || name == abi.ExportOnConfigure
	}
	for _, d := range m.ImportedFunctions() {
		mod, name, _ := d.Import()
		switch mod {
		case abi.HostModule:
			in.HostImports = append(in.HostImports, name+signature(d))
		case abi.WASIModule:
			in.WASIImports = append(in.WASIImports, name)
		default:
			in.Other = append(in.Other, mod+"."+name)
		}
	}
	mem, ok := m.ExportedMemories()[abi.ExportMemory]
	if ok {
		in.MemoryMin = mem.Min()
		if max, has := mem.Max(); has {
			in.MemoryMax = &max
		}
	}
	for _, s := range [][]string{in.Phases, in.Exports, in.HostImports, in.WASIImports, in.Other} {
		sort.Strings(s)
	}
	switch {
	case in.ABIVersion == 0:
		in.Problems = append(in.Problems, "no "+abi.ExportABIV1+" export: the host refuses it; link an SDK or export the marker")
	case in.ABIVersion != 1:
		in.Problems = append(in.Problems, fmt.Sprintf("ABI version %d: this gateway supports version 1", in.ABIVersion))
	}
	if !ok {
		in.Problems = append(in.Problems, "no exported memory named "+abi.ExportMemory)
	}
	if len(in.Phases) == 0 {
		in.Problems = append(in.Problems, "no phase exported (on_request_headers, on_request_body, on_response_headers, on_response_body, on_log)")
	}
	for _, o := range in.Other {
		in.Problems = append(in.Problems, "import "+o+": only "+abi.HostModule+" and "+abi.WASIModule+" are allowed")
	}
	return in, nil
}

// signature formats a function type as "(i32 i32) -> i32".
func signature(d api.FunctionDefinition) string {
	names := func(ts []api.ValueType) string {
		var s []string
		for _, t := range ts {
			s = append(s, api.ValueTypeName(t))
		}
		return strings.Join(s, " ")
	}
	sig := "(" + names(d.ParamTypes()) + ")"
	if len(d.ResultTypes()) > 0 {
		sig += " -> " + names(d.ResultTypes())
	}
	return sig
}

func cmdPluginInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "gateway plugin inspect: give one FILE.wasm")
		return 2
	}
	in, err := inspectModule(context.Background(), pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin inspect: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(in)
	} else {
		max := "none"
		if in.MemoryMax != nil {
			max = fmt.Sprintf("%d pages (%d KiB)", *in.MemoryMax, *in.MemoryMax*64)
		}
		fmt.Fprintf(stdout, "file:         %s\nsize:         %d bytes\nsha256:       %s\nabi version:  %d\n", in.File, in.Size, in.SHA256, in.ABIVersion)
		fmt.Fprintf(stdout, "phases:       %s\n", strings.Join(in.Phases, ", "))
		fmt.Fprintf(stdout, "initialize:   %v\nconfigure:    %v\n", in.Initialize, in.Configure)
		fmt.Fprintf(stdout, "memory:       min %d pages (%d KiB), max %s\n", in.MemoryMin, in.MemoryMin*64, max)
		fmt.Fprintf(stdout, "host imports (%s): %d\n", abi.HostModule, len(in.HostImports))
		for _, s := range in.HostImports {
			fmt.Fprintf(stdout, "  %s\n", s)
		}
		fmt.Fprintf(stdout, "wasi imports: %s\n", strings.Join(in.WASIImports, ", "))
		for _, p := range in.Problems {
			fmt.Fprintf(stdout, "problem:      %s\n", p)
		}
	}
	if len(in.Problems) > 0 {
		return 1
	}
	return 0
}

// headerFlags collects repeated "Name: value" flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func cmdPluginRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reqLine := fs.String("request", "GET /", `request line: "METHOD /path?query"`)
	var headers headerFlags
	fs.Var(&headers, "header", `request header "Name: value" (repeatable)`)
	body := fs.String("body", "", "request body")
	cfgJSON := fs.String("config", "{}", "plugin config (JSON)")
	status := fs.Int("upstream-status", 200, "status of the stand-in upstream")
	upBody := fs.String("upstream-body", "upstream", "body of the stand-in upstream")
	timeout := fs.Duration("timeout", 5*time.Second, "per-phase deadline")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "gateway plugin run: give one FILE.wasm")
		return 2
	}
	method, target, ok := strings.Cut(strings.TrimSpace(*reqLine), " ")
	if !ok || !strings.HasPrefix(target, "/") {
		fmt.Fprintf(stderr, "gateway plugin run: --request %q: want \"METHOD /path\", e.g. \"GET /users/1?x=y\"\n", *reqLine)
		return 2
	}
	r := httptest.NewRequest(method, target, strings.NewReader(*body))
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fmt.Fprintf(stderr, "gateway plugin run: --header %q: want \"Name: value\"\n", h)
			return 2
		}
		r.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	src, err := filepath.Abs(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin run: %v\n", err)
		return 1
	}
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := wasm.New(ctx, wasm.Options{Logger: logger, KV: kv.NewMemory()})
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin run: start host: %v\n", err)
		return 1
	}
	defer h.Close(ctx)
	p, err := h.Load(ctx, &config.Plugin{Name: strings.TrimSuffix(filepath.Base(src), ".wasm"), Source: src,
		ConfigJSON: []byte(*cfgJSON), Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin run: %v\n", err)
		return 1
	}
	var upstream bytes.Buffer
	called := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(&upstream, "%s %s\n", r.Method, r.URL.RequestURI())
		writeHeaders(&upstream, r.Header)
		fmt.Fprintf(&upstream, "\n%s\n", b)
		w.WriteHeader(*status)
		_, _ = io.WriteString(w, *upBody)
	})
	w := httptest.NewRecorder()
	info := &pipeline.Request{ClientIP: "127.0.0.1", RequestID: "plugin-run"}
	pipeline.New([]pipeline.Plugin{p}, pipeline.Options{}).Handle(w, r, info, next)
	if called {
		fmt.Fprintf(stdout, "--- upstream request\n%s", upstream.String())
	} else {
		fmt.Fprintln(stdout, "--- upstream not called (the plugin responded)")
	}
	fmt.Fprintf(stdout, "--- response\n%d %s\n", w.Code, http.StatusText(w.Code))
	writeHeaders(stdout, w.Header())
	fmt.Fprintf(stdout, "\n%s\n", w.Body.String())
	if len(info.Properties) > 0 {
		fmt.Fprintln(stdout, "--- properties")
		keys := make([]string, 0, len(info.Properties))
		for k := range info.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(stdout, "%s = %s\n", k, info.Properties[k])
		}
	}
	return 0
}

// writeHeaders prints h sorted, one "Name: value" line per value.
func writeHeaders(w io.Writer, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
}

func cmdPluginBuild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output .wasm (default NAME.wasm in the current directory)")
	langFlag := fs.String("lang", "", "language (default: detected from the source)")
	noLibc := fs.Bool("nolibc", false, "C: build without wasi-libc")
	sdk := fs.String("sdk", "", "gateway repository root holding sdk/ (default: found above the source)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	src := "."
	if len(pos) == 1 {
		src = pos[0]
	} else if len(pos) > 1 {
		fmt.Fprintln(stderr, "gateway plugin build: give at most one source file or directory")
		return 2
	}
	lang, file, err := toolchain.Detect(src)
	if *langFlag != "" {
		if lang, err = toolchain.ParseLang(*langFlag); err == nil && file == "" {
			file = src
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin build: %v\n", err)
		return 1
	}
	if file, err = filepath.Abs(file); err != nil {
		fmt.Fprintf(stderr, "gateway plugin build: %v\n", err)
		return 1
	}
	root := *sdk
	if root == "" {
		if root, err = toolchain.Root(filepath.Dir(file)); err != nil {
			if root, err = toolchain.Root("."); err != nil {
				fmt.Fprintf(stderr, "gateway plugin build: %v\n", err)
				return 1
			}
		}
	}
	opts := toolchain.Options{Root: root, NoLibc: *noLibc}
	tc, err := toolchain.Find(lang, opts)
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin build: %v\n", err)
		return 1
	}
	if *out == "" {
		name := filepath.Base(file)
		if lang != toolchain.Go {
			name = filepath.Base(filepath.Dir(file))
		}
		*out = name + ".wasm"
	}
	dst, err := filepath.Abs(*out)
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin build: %v\n", err)
		return 1
	}
	if err := tc.Build(context.Background(), file, dst, opts); err != nil {
		fmt.Fprintf(stderr, "gateway plugin build: %v\n", err)
		return 1
	}
	st, err := os.Stat(dst)
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin build: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "built %s (%s, %d bytes)\n", *out, lang, st.Size())
	return 0
}

// scaffoldData fills the scaffold templates.
type scaffoldData struct {
	Name    string // plugin name
	Lang    string // toolchain.Lang
	Src     string // the source the test builds, relative to the plugin dir
	TestPkg string // package of plugin_test.go
}

// scaffoldSrc is the source file each language's scaffold builds.
func scaffoldSrc(lang toolchain.Lang) string {
	switch lang {
	case toolchain.Rust:
		return "src/lib.rs"
	case toolchain.C:
		return "src/plugin.c"
	case toolchain.AssemblyScript:
		return "plugin.ts"
	}
	return "."
}

// scaffolds are the files of `gateway plugin new`, per language.
func scaffolds(lang toolchain.Lang) (map[string]string, error) {
	files := map[string]string{"plugin_test.go": scaffoldTest}
	switch lang {
	case toolchain.Go:
		files["main.go"] = scaffoldGo
	case toolchain.Rust:
		files["src/lib.rs"] = scaffoldRust
		files["Cargo.toml"] = scaffoldCargo
	case toolchain.C:
		files["src/plugin.c"] = scaffoldC // not beside the Go test: go refuses .c files without cgo
	case toolchain.AssemblyScript:
		files["plugin.ts"] = scaffoldAS
	default:
		return nil, fmt.Errorf("gateway plugin new: no scaffold for %q: use go, rust, c or assemblyscript (WAT: see docs/plugins-wat.md)", lang)
	}
	return files, nil
}

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

func cmdPluginNew(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	langFlag := fs.String("lang", "go", "language: go, rust, c or assemblyscript")
	dir := fs.String("dir", "", "directory to create (default ./NAME)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 || !pluginName.MatchString(pos[0]) {
		fmt.Fprintln(stderr, "gateway plugin new: give one NAME: lowercase letters, digits and dashes, starting with a letter")
		return 2
	}
	name := pos[0]
	lang, err := toolchain.ParseLang(*langFlag)
	if err != nil {
		fmt.Fprintf(stderr, "gateway plugin new: %v\n", err)
		return 2
	}
	files, err := scaffolds(lang)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *dir == "" {
		*dir = name
	}
	if _, err := os.Stat(*dir); err == nil {
		fmt.Fprintf(stderr, "gateway plugin new: %s already exists; choose another --dir or remove it\n", *dir)
		return 1
	}
	data := scaffoldData{Name: name, Lang: string(lang), Src: scaffoldSrc(lang), TestPkg: "plugin_test"}
	if lang == toolchain.Go {
		data.TestPkg = "main_test"
	}
	for rel, text := range files {
		var b bytes.Buffer
		if err := template.Must(template.New(rel).Delims("[[", "]]").Parse(text)).Execute(&b, data); err != nil {
			fmt.Fprintf(stderr, "gateway plugin new: render %s: %v\n", rel, err)
			return 1
		}
		p := filepath.Join(*dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintf(stderr, "gateway plugin new: %v\n", err)
			return 1
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "gateway plugin new: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "created %s plugin %q in %s\nbuild: gateway plugin build %s\ntest:  go test ./%s (inside the gateway repository)\n",
		lang, name, *dir, *dir, filepath.ToSlash(*dir))
	return 0
}
