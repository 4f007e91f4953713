package interrupt_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmgate/gateway/host/wasm/internal/interrupt"
	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// BenchmarkGuest runs a Go guest decoding and encoding a 2 KiB JSON document
// (testdata/jsonguest) with no interruption checks at all, with wazero's
// WithCloseOnContextDone, and instrumented by Instrument (flag never set).
func BenchmarkGuest(b *testing.B) {
	path, err := wasmtest.BuildPlugin(filepath.Join("testdata", "jsonguest"))
	require.NoError(b, err)
	bin, err := os.ReadFile(path)
	require.NoError(b, err)
	instrumented, err := interrupt.Instrument(bin)
	require.NoError(b, err)
	for _, tc := range []struct {
		name        string
		bin         []byte
		closeOnDone bool
	}{
		{"no-checks", bin, false},
		{"close-on-context-done", bin, true},
		{"instrumented", instrumented, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(tc.closeOnDone))
			defer r.Close(ctx)
			wasi_snapshot_preview1.MustInstantiate(ctx, r)
			mod, err := r.InstantiateWithConfig(ctx, tc.bin, wazero.NewModuleConfig().
				WithStartFunctions(interrupt.StartExport, "_initialize"))
			require.NoError(b, err)
			run := mod.ExportedFunction("run")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := run.Call(ctx, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
