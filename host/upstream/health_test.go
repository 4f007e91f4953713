package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// healthBackend answers health checks with a status the test sets, and
// records the path it was asked for.
type healthBackend struct {
	*httptest.Server
	status atomic.Int64
	path   atomic.Value
}

func newHealthBackend(t *testing.T, status int) *healthBackend {
	t.Helper()
	b := &healthBackend{}
	b.status.Store(int64(status))
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.path.Store(r.URL.RequestURI())
		if s := int(b.status.Load()); s == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", s)
		} else {
			w.WriteHeader(s)
		}
	}))
	t.Cleanup(b.Close)
	return b
}

// hour is an interval long enough that the ticker never fires during a test:
// tests drive checks with checkOnce.
const hour = time.Hour

func TestHealthCheckRemovesAndRestores(t *testing.T) {
	good := newHealthBackend(t, http.StatusOK)
	flaky := newHealthBackend(t, http.StatusOK)
	rec := &recorder{}
	p := newPool(t, &config.Upstream{
		Targets: targets(good.URL, flaky.URL+"/base"),
		HealthCheck: &config.HealthCheck{
			Path: "/healthz?deep=1", Interval: hour, Timeout: 5 * time.Second,
			HealthyThreshold: 2, UnhealthyThreshold: 3,
		},
	}, Options{OnStateChange: rec.record})

	steps := []struct {
		status     int
		expHealthy bool
	}{
		{http.StatusOK, true},
		{http.StatusServiceUnavailable, true}, // 1 failure of 3
		{http.StatusServiceUnavailable, true}, // 2 of 3
		{http.StatusOK, true},                 // resets the run
		{http.StatusServiceUnavailable, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusServiceUnavailable, false}, // 3 in a row: out
		{http.StatusOK, false},                 // 1 success of 2
		{http.StatusInternalServerError, false},
		{http.StatusOK, false},
		{http.StatusOK, true}, // 2 in a row: back
	}
	for i, s := range steps {
		flaky.status.Store(int64(s.status))
		p.checkOnce(t.Context())
		require.Equal(t, s.expHealthy, p.targets[1].healthy.Load(), "step %d", i)
		require.True(t, p.targets[0].healthy.Load(), "step %d: the good target stays healthy", i)
		if !s.expHealthy {
			for range 10 {
				assert.Equal(t, 0, pickIndex(t, p, ""), "step %d: the unhealthy target is not picked", i)
			}
		}
	}
	assert.Equal(t, "/base/healthz?deep=1", flaky.path.Load(), "the check path is joined to the target's base path")
	assert.Equal(t, []stateEvent{
		{"billing", flaky.URL + "/base", "healthy", "unhealthy"},
		{"billing", flaky.URL + "/base", "unhealthy", "healthy"},
	}, rec.get())
}

func TestHealthCheckStatus(t *testing.T) {
	tests := []struct {
		name   string
		expect []int
		status int
		exp    bool
	}{
		{name: "2xx by default", status: http.StatusNoContent, exp: true},
		{name: "3xx by default, not followed", status: http.StatusFound, exp: true},
		{name: "4xx by default", status: http.StatusNotFound, exp: false},
		{name: "5xx by default", status: http.StatusBadGateway, exp: false},
		{name: "expected", expect: []int{200, 418}, status: http.StatusTeapot, exp: true},
		{name: "not expected", expect: []int{204}, status: http.StatusOK, exp: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newHealthBackend(t, tc.status)
			p := newPool(t, &config.Upstream{
				Targets: targets(b.URL),
				HealthCheck: &config.HealthCheck{
					Path: "/healthz", Interval: hour, Timeout: 5 * time.Second,
					HealthyThreshold: 1, UnhealthyThreshold: 1, ExpectStatus: tc.expect,
				},
			}, Options{})
			p.checkOnce(t.Context())
			assert.Equal(t, tc.exp, p.targets[0].healthy.Load())
			assert.Equal(t, "/healthz", b.path.Load())
		})
	}
}

func TestHealthCheckConnectionRefused(t *testing.T) {
	b := newHealthBackend(t, http.StatusOK)
	url := b.URL
	b.Close() // nothing listens there any more
	p := newPool(t, &config.Upstream{
		Targets:     targets(url),
		HealthCheck: &config.HealthCheck{Path: "/", Interval: hour, Timeout: 5 * time.Second, UnhealthyThreshold: 1},
	}, Options{})
	p.checkOnce(t.Context())
	assert.False(t, p.targets[0].healthy.Load())
	_, _, err := p.Pick("", nil)
	var u *Unavailable
	require.ErrorAs(t, err, &u)
	assert.Equal(t, &Unavailable{Upstream: "billing", Reason: ReasonNoHealthyTargets}, u,
		"no panic routing: an all-unhealthy pool fails fast")
}

func TestHealthCheckTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	p := newPool(t, &config.Upstream{
		Targets:     targets(slow.URL),
		HealthCheck: &config.HealthCheck{Path: "/", Interval: hour, Timeout: 20 * time.Millisecond, UnhealthyThreshold: 1},
	}, Options{})
	p.checkOnce(t.Context())
	assert.False(t, p.targets[0].healthy.Load(), "a check that times out fails")
}

func TestHealthCheckCanceledCountsForNothing(t *testing.T) {
	b := newHealthBackend(t, http.StatusOK)
	p := newPool(t, &config.Upstream{
		Targets:     targets(b.URL),
		HealthCheck: &config.HealthCheck{Path: "/", Interval: hour, Timeout: time.Second, UnhealthyThreshold: 1},
	}, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p.checkOnce(ctx)
	assert.True(t, p.targets[0].healthy.Load(), "a check stopped by Close is not a failure")
}
