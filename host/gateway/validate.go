package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/metrics"
)

// Validate builds everything a config describes without serving it (router,
// upstream pools, plugins) and reports what fails as diagnostics at the
// offending block. It complements config.Load, which checks the file itself.
func Validate(ctx context.Context, cfg *config.Gateway) config.Diagnostics {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	gen, err := newGeneration(ctx, cfg, metrics.New(), logger, nil)
	if err != nil {
		var be *blockError
		if errors.As(err, &be) {
			return config.Diagnostics{config.NewDiagnostic(be.rng, be.summary, be.Error())}
		}
		return config.Diagnostics{config.NewDiagnostic(config.Range{Filename: firstFile(cfg)}, "Invalid configuration", err.Error())}
	}
	gen.close(ctx)
	return nil
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
