package interrupt_test

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmgate/gateway/host/wasm/internal/interrupt"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// features are every core feature wazero v1.12 can run, so that the
// fixtures can use the experimental instructions the walker knows.
const features = api.CoreFeaturesV2 | experimental.CoreFeaturesTailCall | experimental.CoreFeaturesThreads |
	experimental.CoreFeaturesExceptionHandling | experimental.CoreFeaturesTypedFunctionReferences

// wat compiles testdata/NAME.wat with wat2wasm --enable-FEATURE for each
// feature. It skips the test when wat2wasm is not installed.
func wat(t testing.TB, name string, enable ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not found; install wabt (apt-get install wabt) to run WAT fixture tests")
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	args := []string{filepath.Join("testdata", name+".wat"), "-o", out}
	for _, f := range enable {
		args = append(args, "--enable-"+f)
	}
	b, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "wat2wasm %s: %s", name, b)
	wasm, err := os.ReadFile(out)
	require.NoError(t, err)
	return wasm
}

// newRuntime returns a compiler runtime with every feature and the "env"
// module imports.wat needs.
func newRuntime(t testing.TB) wazero.Runtime {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCoreFeatures(features))
	t.Cleanup(func() { _ = r.Close(ctx) })
	_, err := r.InstantiateWithConfig(ctx, wat(t, "env"), wazero.NewModuleConfig().WithName("env"))
	require.NoError(t, err)
	return r
}

type call struct {
	fn     string
	params []uint64
}

// TestInstrument instruments each fixture, checks that every listed export
// gives the same results as in the original, and that the flag stops an
// export that never returns.
func TestInstrument(t *testing.T) {
	tests := []struct {
		name   string
		wat    string
		enable []string // wat2wasm features
		calls  []call   // the same results before and after
		spin   string   // never returns; traps once the flag is set
		expErr string   // from Instrument
	}{
		{
			name: "loops", wat: "loops",
			calls: []call{{"nested", []uint64{10}}, {"multi", []uint64{10}}, {"table", []uint64{9}}, {"calls", []uint64{0}}, {"calls", []uint64{5}}, {"fib", []uint64{15}}},
			spin:  "spin",
		},
		{name: "call tree without loops", wat: "loops", spin: "recurse"},
		{name: "simd", wat: "simd", calls: []call{{"sum", []uint64{5}}}},
		{name: "bulk memory, reference types, saturating conversion", wat: "bulk", calls: []call{{"run", []uint64{5}}}},
		{name: "imported globals come first", wat: "imports", calls: []call{{"count", []uint64{4}}}, spin: "spin"},
		{name: "start section becomes an export", wat: "start", calls: []call{{"ready", nil}, {"init", nil}}},
		{name: "tail calls", wat: "tailcall", enable: []string{"tail-call"}, calls: []call{{"down", []uint64{1000, 0}}}, spin: "spin"},
		{name: "threads", wat: "threads", enable: []string{"threads"}, calls: []call{{"count", []uint64{10}}}},
		{name: "legacy exception handling", wat: "legacy_eh", enable: []string{"exceptions"}, expErr: "unknown opcode 0x6"},
		{name: "reserved export name", wat: "reserved", expErr: `the module already exports "wasmgate.interrupt", a name reserved for the gateway`},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin := wat(t, tc.wat, tc.enable...)
			out, err := interrupt.Instrument(bin)
			if tc.expErr != "" {
				require.ErrorContains(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			r := newRuntime(t)
			orig, err := r.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName(""))
			require.NoError(t, err)
			// As the host does: the former start section runs right after
			// instantiation.
			mod, err := r.InstantiateWithConfig(ctx, out, wazero.NewModuleConfig().WithName("").WithStartFunctions(interrupt.StartExport))
			require.NoError(t, err)
			for _, c := range tc.calls {
				exp, err := orig.ExportedFunction(c.fn).Call(ctx, c.params...)
				require.NoError(t, err, c.fn)
				got, err := mod.ExportedFunction(c.fn).Call(ctx, c.params...)
				require.NoError(t, err, c.fn)
				assert.Equal(t, exp, got, "%s%v", c.fn, c.params)
			}
			flag, ok := mod.ExportedGlobal(interrupt.FlagExport).(api.MutableGlobal)
			require.True(t, ok, "the flag is an exported mutable global")
			assert.Equal(t, api.ValueTypeI32, flag.Type())
			assert.Zero(t, flag.Get())
			if tc.spin != "" {
				requireStops(t, mod.ExportedFunction(tc.spin), flag)
			}
			_, err = interrupt.Instrument(out)
			assert.ErrorContains(t, err, "a name reserved for the gateway", "instrumenting twice is refused")
		})
	}
}

// requireStops calls f, which never returns, collects garbage while it runs
// (which needs the guest's thread to stop at a Go preemption point, so it
// hangs unless the guest exits into Go), then sets flag.
func requireStops(t *testing.T, f api.Function, flag api.MutableGlobal) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := f.Call(context.Background())
		done <- err
	}()
	for range 3 {
		runtime.GC()
	}
	flag.Set(1)
	select {
	case err := <-done:
		require.ErrorContains(t, err, "wasm error: unreachable")
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not stop within 10s of setting the flag")
	}
}

func TestInstrumentModule(t *testing.T) {
	header := "\x00asm\x01\x00\x00\x00"
	memory := "\x05\x04\x01\x01\x00\x00"                                  // (memory 0 0), for memory.grow
	globals := "\x06\x0c\x02\x7f\x01\x41\x00\x0b\x7f\x01\x41\x80\x08\x0b" // flag 0, budget 1024
	flagExport := "\x07\x16\x01\x12wasmgate.interrupt\x03\x00"
	tests := []struct {
		name   string
		in     string
		exp    string
		expErr string
	}{
		{name: "empty module", in: header, exp: header + memory + globals + flagExport},
		{
			name: "DWARF dropped, other custom sections kept in place",
			in:   header + "\x00\x0c\x0b.debug_info" + "\x00\x05\x04name" + "\x01\x01\x00",
			exp:  header + "\x00\x05\x04name" + "\x01\x01\x00" + memory + globals + flagExport,
		},
		{
			name: "global and export sections extended",
			in:   header + "\x05\x03\x01\x00\x01" + "\x06\x06\x01\x7e\x00\x42\x05\x0b" + "\x07\x05\x01\x01g\x03\x00",
			exp: header + "\x05\x03\x01\x00\x01" + "\x06\x11\x03\x7e\x00\x42\x05\x0b\x7f\x01\x41\x00\x0b\x7f\x01\x41\x80\x08\x0b" +
				"\x07\x1a\x02\x01g\x03\x00\x12wasmgate.interrupt\x03\x01",
		},
		{
			name: "empty memory section replaced",
			in:   header + "\x05\x01\x00",
			exp:  header + memory + globals + flagExport,
		},
		{
			name: "imported memory",
			in:   header + "\x02\x0d\x01\x01m\x06memory\x02\x00\x01",
			exp:  header + "\x02\x0d\x01\x01m\x06memory\x02\x00\x01" + globals + flagExport,
		},
		{
			name: "start section exported",
			in: header + "\x01\x04\x01\x60\x00\x00" + "\x03\x02\x01\x00" + "\x05\x03\x01\x00\x01" + "\x08\x01\x00" +
				"\x0a\x04\x01\x02\x00\x0b",
			exp: header + "\x01\x04\x01\x60\x00\x00" + "\x03\x02\x01\x00" + "\x05\x03\x01\x00\x01" + globals +
				"\x07\x27\x02\x12wasmgate.interrupt\x03\x00\x0ewasmgate.start\x00\x00" + "\x0a\x04\x01\x02\x00\x0b",
		},
		{name: "not wasm", in: "garbage", expErr: "not a WebAssembly 1.0 binary module (bad magic or version)"},
		{name: "version 2", in: "\x00asm\x02\x00\x00\x00", expErr: "not a WebAssembly 1.0 binary module (bad magic or version)"},
		{name: "unknown section", in: header + "\x0e\x00", expErr: "offset 0xa: unknown section id 14"},
		{name: "sections out of order", in: header + "\x07\x01\x00\x06\x01\x00", expErr: "offset 0xd: section 6 out of order"},
		{name: "truncated section", in: header + "\x01\x05\x00", expErr: "section 1: offset 0xa: 5 bytes needed, 1 left"},
		{name: "malformed import", in: header + "\x02\x04\x01\x00\x00\x07", expErr: "section 2: offset 0xe: unknown import kind 0x7"},
		{name: "code section with trailing bytes", in: header + "\x0a\x05\x01\x02\x00\x0b\x00", expErr: "code section: offset 0xe: bytes after the last function body"},
		{name: "function body error", in: header + "\x0a\x05\x01\x03\x00\xff\x0b", expErr: "code section: function body 0: offset 0xd: unknown opcode 0xff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := interrupt.Instrument([]byte(tc.in))
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []byte(tc.exp), out)
		})
	}
}

// TestInstrumentRepoModules instruments every Go plugin and function and
// every WAT module of the repository and checks that wazero compiles each
// result whenever it compiles the original, with the same exports plus the
// flag. The plugins' own tests run the instrumented modules through the host.
func TestInstrumentRepoModules(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..")
	type module struct{ name, src string }
	var mods []module
	for _, pattern := range []string{"plugins/*/main.go", "examples/plugins/*/main.go", "examples/functions/*/main.go", "host/wasm/testdata/*/*/main.go"} {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		for _, f := range files {
			mods = append(mods, module{name: filepath.Dir(strings.TrimPrefix(f, root+"/")), src: filepath.Dir(f)})
		}
	}
	for _, pattern := range []string{"sdk/wat/*.wat", "examples/wat/*/*.wat", "host/wasm/testdata/*.wat"} {
		files, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		for _, f := range files {
			mods = append(mods, module{name: strings.TrimPrefix(f, root+"/"), src: f})
		}
	}
	require.Greater(t, len(mods), 30)

	ctx := context.Background()
	dir, err := wasmtest.CacheDir()
	require.NoError(t, err)
	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "wazero"))
	require.NoError(t, err)
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	t.Cleanup(func() { _ = r.Close(ctx) })
	for _, m := range mods {
		t.Run(m.name, func(t *testing.T) {
			var bin []byte
			if strings.HasSuffix(m.src, ".wat") {
				bin = watFile(t, m.src)
			} else {
				path, err := wasmtest.BuildPlugin(m.src)
				require.NoError(t, err)
				bin, err = os.ReadFile(path)
				require.NoError(t, err)
			}
			orig, err := r.CompileModule(ctx, bin)
			if err != nil {
				t.Skipf("wazero rejects the original too: %v", err)
			}
			defer orig.Close(ctx)
			out, err := interrupt.Instrument(bin)
			if err != nil && strings.Contains(err.Error(), "a name reserved for the gateway") {
				t.Skipf("uses a reserved name on purpose: %v", err)
			}
			require.NoError(t, err)
			got, err := r.CompileModule(ctx, out)
			require.NoError(t, err)
			defer got.Close(ctx)
			exp := exportNames(orig)
			if start := got.ExportedFunctions()[interrupt.StartExport]; start != nil {
				exp = append(exp, interrupt.StartExport)
				slices.Sort(exp)
			}
			assert.Equal(t, exp, exportNames(got))
		})
	}
}

func exportNames(m wazero.CompiledModule) []string {
	var names []string
	for name := range m.ExportedFunctions() {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// watFile compiles a .wat file anywhere in the repository.
func watFile(t *testing.T, src string) []byte {
	t.Helper()
	path := wasmtest.BuildWAT(t, src)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// FuzzInstrument: Instrument never panics, and whenever wazero compiles a
// module that is well formed outside its function bodies, Instrument accepts
// it (unless it uses a reserved export name), wazero compiles the result and
// Instrument parses the result again.
func FuzzInstrument(f *testing.F) {
	if _, err := exec.LookPath("wat2wasm"); err == nil {
		for _, s := range []struct {
			name   string
			enable []string
		}{{"loops", nil}, {"simd", nil}, {"bulk", nil}, {"imports", nil}, {"start", nil}, {"tailcall", []string{"tail-call"}}, {"threads", []string{"threads"}}} {
			f.Add(wat(f, s.name, s.enable...))
		}
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x03\x40\x0c\x00\x0b\x0b"))
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCoreFeatures(features))
	f.Cleanup(func() { _ = r.Close(ctx) })
	compiles := func(bin []byte) (ok bool) {
		defer func() {
			if recover() != nil { // wazero's validator panics on some inputs
				ok = false
			}
		}()
		m, err := r.CompileModule(ctx, bin)
		if err != nil {
			return false
		}
		_ = m.Close(ctx)
		return true
	}
	f.Fuzz(func(t *testing.T, bin []byte) {
		out, err := interrupt.Instrument(bin)
		if err != nil && !strings.HasPrefix(err.Error(), "code section: function body") || !plausibleTypes(bin) {
			// Malformed outside function bodies, where wazero's decoder
			// allocates as many entries as a count says before it finds
			// the bytes missing: on garbage that can exhaust memory.
			// (Instrument copies the type, element and data sections
			// unread; only the first is screened here, so a long run can
			// still end in "out of memory" inside wazero's decoder.)
			return
		}
		if !compiles(bin) {
			return // nothing to compare with
		}
		if err != nil {
			require.ErrorContains(t, err, "a name reserved for the gateway", "wazero compiles the module but Instrument rejects it")
			return
		}
		got, err := r.CompileModule(ctx, out)
		require.NoError(t, err, "wazero compiles the module but not its instrumented form")
		_ = got.Close(ctx)
		_, err = interrupt.Instrument(out)
		require.ErrorContains(t, err, "a name reserved for the gateway", "the instrumented module parses again")
	})
}

// plausibleTypes reports whether every vector of the type section, if any,
// fits in the section's bytes.
func plausibleTypes(bin []byte) bool {
	b := bin[min(len(bin), 8):]
	for len(b) > 0 {
		id := b[0]
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || size > uint64(len(b)-1-n) {
			return false
		}
		payload := b[1+n : 1+n+int(size)]
		b = b[1+n+int(size):]
		if id != 1 {
			continue
		}
		count, n := binary.Uvarint(payload)
		if n <= 0 || count > uint64(len(payload)) {
			return false
		}
		payload = payload[n:]
		for range count {
			if len(payload) == 0 {
				return false
			}
			payload = payload[1:] // 0x60
			for range 2 {         // params, results
				k, n := binary.Uvarint(payload)
				if n <= 0 || k > uint64(len(payload)-n) {
					return false
				}
				payload = payload[n+int(k):] // at least a byte each
			}
		}
	}
	return true
}
