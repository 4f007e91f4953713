package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/kv"
	"github.com/wasmgate/gateway/host/metrics"
)

// Validate builds everything a config describes without serving it (router,
// upstream pools, plugins) and reports what fails as diagnostics at the
// offending block. It complements config.Load, which checks the file itself.
func Validate(ctx context.Context, cfg *config.Gateway) config.Diagnostics {
	store := kv.NewMemory()
	defer store.Close()
	sh := &shared{
		metrics: metrics.New(),
		logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		kv:      store,
	}
	gen, err := newGeneration(ctx, cfg, sh)
	if err != nil {
		return diagnostics(cfg, err)
	}
	gen.close(ctx)
	return nil
}

// diagnostics turns a build error into diagnostics at the blocks it concerns
// (several when plugins failed to load).
func diagnostics(cfg *config.Gateway, err error) config.Diagnostics {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out config.Diagnostics
		for _, e := range joined.Unwrap() {
			out = append(out, diagnostics(cfg, e)...)
		}
		return out
	}
	var be *blockError
	if errors.As(err, &be) {
		return config.Diagnostics{config.NewDiagnostic(be.rng, be.summary, be.Error())}
	}
	return config.Diagnostics{config.NewDiagnostic(config.Range{Filename: firstFile(cfg)}, "Invalid configuration", err.Error())}
}

// buildDiagnostics formats a build error like config diagnostics.
func buildDiagnostics(cfg *config.Gateway, err error) string {
	return config.FormatDiagnostics(diagnostics(cfg, err))
}

func firstFile(cfg *config.Gateway) string {
	if len(cfg.Files) > 0 {
		return cfg.Files[0]
	}
	return ""
}

// blockError is a build failure attributed to one config block.
type blockError struct {
	rng     config.Range
	summary string
	err     error
}

func (e *blockError) Error() string { return e.err.Error() }
func (e *blockError) Unwrap() error { return e.err }
