// Package admin serves the gateway's admin API: liveness, readiness, Prometheus
// metrics, the effective configuration with secrets redacted, and reload.
//
// It listens on its own address (127.0.0.1:9090 by default), never on the data
// plane, and knows nothing of how the gateway is built: the gateway hands it
// callbacks.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"
	"time"
)

// Options are the callbacks the admin API serves.
type Options struct {
	// Metrics serves /metrics (Prometheus text format).
	Metrics http.Handler
	// Ready reports whether the gateway takes traffic (for /readyz).
	Ready func() bool
	// Config returns the effective config as JSON with secrets redacted.
	Config func() ([]byte, error)
	// Reload reloads the config file; its error text holds the diagnostics.
	Reload func(ctx context.Context) error
	// Version is reported by /healthz.
	Version string
}

// New returns the admin API handler.
//
//	GET  /healthz  200 {"status":"ok","version":"..."} while the process runs
//	GET  /readyz   200 when serving traffic, 503 while starting or draining
//	GET  /metrics  Prometheus metrics
//	GET  /config   the effective configuration, secrets redacted
//	POST /reload   reload the config file; 200, or 422 with the diagnostics
//	GET  /debug/pprof/...  Go runtime profiles (the admin listener is loopback by default)
func New(opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": opts.Version})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if opts.Ready != nil && opts.Ready() {
			WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
			return
		}
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
	})
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", opts.Metrics)
	}
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		b, err := opts.Config()
		if err != nil {
			WriteJSON(w, http.StatusInternalServerError, map[string]string{"message": "render config: " + err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("POST /reload", func(w http.ResponseWriter, r *http.Request) {
		if opts.Reload == nil {
			WriteJSON(w, http.StatusNotImplemented, map[string]string{"message": "reload is not available"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		if err := opts.Reload(ctx); err != nil {
			status := http.StatusUnprocessableEntity
			if errors.Is(err, context.DeadlineExceeded) {
				status = http.StatusGatewayTimeout
			}
			WriteJSON(w, status, map[string]string{"message": "reload rejected", "error": err.Error()})
			return
		}
		WriteJSON(w, http.StatusOK, map[string]string{"message": "reloaded"})
	})
	return mux
}

// WriteJSON answers with status and v as JSON (one line). The admin API and
// the endpoints the gateway adds to it (api keys, @connections) all use it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
