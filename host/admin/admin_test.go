package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAdmin(t *testing.T) {
	ready := false
	reloadErr := errors.New("gateway.hcl:3:5: Unknown upstream")
	h := New(Options{
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("metrics")) }),
		Ready:   func() bool { return ready },
		Config:  func() ([]byte, error) { return []byte(`{"routes":[]}`), nil },
		Reload:  func(context.Context) error { return reloadErr },
		Version: "v1.2.3",
	})
	tests := []struct {
		name, method, path string
		before             func()
		expStatus          int
		expBody            string
	}{
		{name: "healthz", method: "GET", path: "/healthz", expStatus: 200, expBody: `"version":"v1.2.3"`},
		{name: "not ready", method: "GET", path: "/readyz", expStatus: 503, expBody: "not ready"},
		{name: "ready", method: "GET", path: "/readyz", before: func() { ready = true }, expStatus: 200, expBody: `"ready"`},
		{name: "metrics", method: "GET", path: "/metrics", expStatus: 200, expBody: "metrics"},
		{name: "config", method: "GET", path: "/config", expStatus: 200, expBody: `{"routes":[]}`},
		{name: "reload rejected", method: "POST", path: "/reload", expStatus: 422, expBody: "gateway.hcl:3:5: Unknown upstream"},
		{name: "reload ok", method: "POST", path: "/reload", before: func() { reloadErr = nil }, expStatus: 200, expBody: "reloaded"},
		{name: "reload needs POST", method: "GET", path: "/reload", expStatus: 405},
		{name: "pprof", method: "GET", path: "/debug/pprof/", expStatus: 200, expBody: "goroutine"},
		{name: "unknown", method: "GET", path: "/nope", expStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			assert.Equal(t, tc.expStatus, w.Code)
			assert.True(t, strings.Contains(w.Body.String(), tc.expBody), w.Body.String())
		})
	}
}
