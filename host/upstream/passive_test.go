package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// fakeClock is the passive-ejection clock of a test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var errRefused = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

// outcome is the status and error a Done is called with.
type outcome struct {
	status int
	err    error
}

func TestPassiveEjection(t *testing.T) {
	tests := []struct {
		name       string
		outcomes   []outcome
		expEjected bool
	}{
		{name: "three 5xx", outcomes: []outcome{{502, nil}, {500, nil}, {503, nil}}, expEjected: true},
		{name: "connection errors", outcomes: []outcome{{0, errRefused}, {0, errRefused}, {0, errRefused}}, expEjected: true},
		{name: "deadline is a failure", outcomes: []outcome{{0, context.DeadlineExceeded}, {502, nil}, {0, errRefused}}, expEjected: true},
		{name: "success resets", outcomes: []outcome{{502, nil}, {502, nil}, {200, nil}, {502, nil}, {502, nil}}},
		{name: "4xx is success", outcomes: []outcome{{502, nil}, {502, nil}, {404, nil}, {502, nil}, {502, nil}}},
		{name: "too few", outcomes: []outcome{{502, nil}, {502, nil}}},
		{name: "client cancel counts for nothing", outcomes: []outcome{
			{0, context.Canceled}, {0, fmt.Errorf("copy body: %w", context.Canceled)},
			{0, &url.Error{Op: "Get", URL: "http://t0", Err: context.Canceled}}, {0, context.Canceled},
		}},
		{name: "client cancel does not reset", outcomes: []outcome{{502, nil}, {502, nil}, {0, context.Canceled}, {502, nil}}, expEjected: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			clock := &fakeClock{t: time.Unix(1_000_000, 0)}
			p := newPool(t, &config.Upstream{
				Targets:       weighted(1),
				PassiveHealth: &config.PassiveHealth{ConsecutiveFailures: 3, EjectDuration: 30 * time.Second},
			}, Options{OnStateChange: rec.record})
			p.now = clock.now
			for _, o := range tc.outcomes {
				_, done, err := p.Pick("", nil)
				require.NoError(t, err)
				done(o.status, o.err)
			}
			_, _, err := p.Pick("", nil)
			if !tc.expEjected {
				require.NoError(t, err)
				assert.Empty(t, rec.get())
				return
			}
			var u *Unavailable
			require.ErrorAs(t, err, &u)
			assert.Equal(t, &Unavailable{Upstream: "billing", Reason: ReasonNoHealthyTargets}, u)
			assert.True(t, p.Snapshot()[0].Ejected)

			clock.advance(30*time.Second - time.Nanosecond)
			_, _, err = p.Pick("", nil)
			require.ErrorAs(t, err, &u, "still ejected just before EjectDuration")

			clock.advance(time.Nanosecond)
			_, done, err := p.Pick("", nil)
			require.NoError(t, err, "back after EjectDuration")
			done(200, nil)
			assert.False(t, p.Snapshot()[0].Ejected)
			assert.Equal(t, []stateEvent{
				{"billing", "http://t0:80", "healthy", "ejected"},
				{"billing", "http://t0:80", "ejected", "healthy"},
			}, rec.get())
		})
	}
}

func TestPassiveEjectionMovesTraffic(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	p := newPool(t, &config.Upstream{
		Targets:       weighted(1, 1),
		PassiveHealth: &config.PassiveHealth{ConsecutiveFailures: 2, EjectDuration: time.Minute},
	}, Options{})
	p.now = clock.now
	for p.targets[0].ejectedUntil.Load() == 0 {
		tg, done, err := p.Pick("", nil)
		require.NoError(t, err)
		if tg.index == 0 {
			done(500, nil)
		} else {
			done(200, nil)
		}
	}
	for range 10 {
		assert.Equal(t, 1, pickIndex(t, p, ""))
	}
	clock.advance(time.Minute)
	counts := make([]int, 2)
	for range 10 {
		counts[pickIndex(t, p, "")]++
	}
	assert.Equal(t, []int{5, 5}, counts)
}
