package upstream

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// waitPick polls Pick, for at most 10s, until it succeeds. gobreaker reads the
// real clock, so there is no event to wait on for an open breaker's timeout.
func waitPick(t *testing.T, p *Pool) (*Target, Done) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tg, done, err := p.Pick("", nil)
		if err == nil {
			return tg, done
		}
		require.False(t, time.Now().After(deadline), "Pick still fails after 10s: %v", err)
		time.Sleep(time.Millisecond)
	}
}

func TestBreakerTrips(t *testing.T) {
	tests := []struct {
		name     string
		cb       config.CircuitBreaker
		outcomes []outcome
		expOpen  bool
	}{
		{name: "consecutive failures", cb: config.CircuitBreaker{ConsecutiveFailures: 3},
			outcomes: []outcome{{500, nil}, {0, errRefused}, {503, nil}}, expOpen: true},
		{name: "consecutive reset by success", cb: config.CircuitBreaker{ConsecutiveFailures: 3},
			outcomes: []outcome{{500, nil}, {500, nil}, {200, nil}, {500, nil}, {500, nil}}},
		{name: "default is 5 consecutive", cb: config.CircuitBreaker{},
			outcomes: []outcome{{500, nil}, {500, nil}, {500, nil}, {500, nil}, {500, nil}}, expOpen: true},
		{name: "default not reached", cb: config.CircuitBreaker{},
			outcomes: []outcome{{500, nil}, {500, nil}, {500, nil}, {500, nil}}},
		{name: "ratio", cb: config.CircuitBreaker{FailureRatio: 0.5, MinRequests: 4},
			outcomes: []outcome{{200, nil}, {500, nil}, {200, nil}, {500, nil}}, expOpen: true},
		{name: "ratio below min requests", cb: config.CircuitBreaker{FailureRatio: 0.5, MinRequests: 4},
			outcomes: []outcome{{500, nil}, {500, nil}, {500, nil}}},
		{name: "ratio not reached", cb: config.CircuitBreaker{FailureRatio: 0.5, MinRequests: 4},
			outcomes: []outcome{{200, nil}, {200, nil}, {500, nil}, {200, nil}, {500, nil}}},
		{name: "failure statuses", cb: config.CircuitBreaker{ConsecutiveFailures: 2, FailureStatuses: []int{429, 503}},
			outcomes: []outcome{{500, nil}, {429, nil}, {503, nil}}, expOpen: true},
		{name: "status not listed", cb: config.CircuitBreaker{ConsecutiveFailures: 2, FailureStatuses: []int{503}},
			outcomes: []outcome{{500, nil}, {502, nil}, {504, nil}}},
		{name: "client cancel is not a failure", cb: config.CircuitBreaker{ConsecutiveFailures: 2},
			outcomes: []outcome{{0, context.Canceled}, {0, fmt.Errorf("read body: %w", context.Canceled)}, {0, context.Canceled}}},
		{name: "client cancel excluded from ratio", cb: config.CircuitBreaker{FailureRatio: 0.5, MinRequests: 2},
			outcomes: []outcome{{200, nil}, {0, context.Canceled}, {0, context.Canceled}, {200, nil}, {500, nil}}},
		{name: "deadline is a failure", cb: config.CircuitBreaker{ConsecutiveFailures: 2},
			outcomes: []outcome{{0, context.DeadlineExceeded}, {0, context.DeadlineExceeded}}, expOpen: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cb := tc.cb
			cb.OpenTimeout = time.Hour
			rec := &recorder{}
			p := newPool(t, &config.Upstream{Targets: weighted(1), CircuitBreaker: &cb}, Options{OnStateChange: rec.record})
			for _, o := range tc.outcomes {
				_, done, err := p.Pick("", nil)
				require.NoError(t, err)
				done(o.status, o.err)
			}
			_, _, err := p.Pick("", nil)
			if !tc.expOpen {
				require.NoError(t, err)
				assert.Equal(t, "closed", p.Snapshot()[0].Breaker)
				assert.Empty(t, rec.get())
				return
			}
			var u *Unavailable
			require.ErrorAs(t, err, &u)
			assert.Equal(t, &Unavailable{Upstream: "billing", Reason: ReasonCircuitOpen, RetryAfter: time.Hour}, u)
			assert.Equal(t, "open", p.Snapshot()[0].Breaker)
			assert.Equal(t, []stateEvent{{"billing", "http://t0:80", "closed", "open"}}, rec.get())
		})
	}
}

func TestBreakerRetryAfter(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		exp     time.Duration
	}{
		{name: "rounded up", timeout: 2500 * time.Millisecond, exp: 3 * time.Second},
		{name: "at least a second", timeout: 900 * time.Millisecond, exp: time.Second},
		{name: "whole seconds", timeout: 90 * time.Second, exp: 90 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, &config.Upstream{Targets: weighted(1, 1), CircuitBreaker: &config.CircuitBreaker{
				ConsecutiveFailures: 1, OpenTimeout: tc.timeout,
			}}, Options{})
			for i, tg := range p.targets {
				// The second target's breaker opens a moment later; the wait is
				// until the first one half-opens.
				tg.openUntil.Store(time.Now().Add(tc.timeout - time.Duration(1-i)*time.Millisecond).UnixNano())
				tg.state.Store(2) // gobreaker.StateOpen, mirrored as OnStateChange does
			}
			_, _, err := p.Pick("", nil)
			var u *Unavailable
			require.ErrorAs(t, err, &u)
			assert.Equal(t, ReasonCircuitOpen, u.Reason)
			assert.Equal(t, tc.exp, u.RetryAfter)
		})
	}
}

func TestBreakerHalfOpen(t *testing.T) {
	tests := []struct {
		name      string
		probe     outcome
		expEvents []string
		expState  string
	}{
		{name: "probe succeeds", probe: outcome{200, nil},
			expEvents: []string{"closed>open", "open>half-open", "half-open>closed"}, expState: "closed"},
		{name: "probe fails", probe: outcome{502, nil},
			expEvents: []string{"closed>open", "open>half-open", "half-open>open"}, expState: "open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			p := newPool(t, &config.Upstream{Targets: weighted(1), CircuitBreaker: &config.CircuitBreaker{
				ConsecutiveFailures: 2, OpenTimeout: 10 * time.Millisecond, HalfOpenRequests: 1,
			}}, Options{OnStateChange: rec.record})
			for range 2 {
				_, done, err := p.Pick("", nil)
				require.NoError(t, err)
				done(500, nil)
			}
			_, probe := waitPick(t, p)
			assert.Equal(t, "half-open", p.Snapshot()[0].Breaker)

			// The one probe is out: others are refused meanwhile.
			_, _, err := p.Pick("", nil)
			var u *Unavailable
			require.ErrorAs(t, err, &u)
			assert.Equal(t, &Unavailable{Upstream: "billing", Reason: ReasonCircuitOpen, RetryAfter: time.Second}, u)

			probe(tc.probe.status, tc.probe.err)
			assert.Equal(t, tc.expState, p.Snapshot()[0].Breaker)
			var got []string
			for _, e := range rec.get() {
				got = append(got, e.from+">"+e.to)
			}
			assert.Equal(t, tc.expEvents, got)
		})
	}
}

func TestBreakerMovesTraffic(t *testing.T) {
	p := newPool(t, &config.Upstream{Targets: weighted(1, 1, 1), CircuitBreaker: &config.CircuitBreaker{
		ConsecutiveFailures: 1, OpenTimeout: time.Hour,
	}}, Options{})
	fail := func(want int) {
		t.Helper()
		for {
			tg, done, err := p.Pick("", nil)
			require.NoError(t, err)
			if tg.index == want {
				done(500, nil)
				return
			}
			done(200, nil)
		}
	}
	fail(0)
	for range 10 {
		assert.NotEqual(t, 0, pickIndex(t, p, ""), "target 0's breaker is open")
	}
	fail(1)
	for range 10 {
		assert.Equal(t, 2, pickIndex(t, p, ""))
	}
	// An excluded target with a closed breaker beats an open breaker.
	assert.Equal(t, 2, pickIndex(t, p, "", p.targets[2]))
	fail(2)
	_, _, err := p.Pick("", nil)
	var u *Unavailable
	require.ErrorAs(t, err, &u)
	assert.Equal(t, ReasonCircuitOpen, u.Reason)
	assert.Equal(t, time.Hour, u.RetryAfter)
}

func TestUnavailableMixed(t *testing.T) {
	// One target unhealthy, the other's breaker open: the breaker decides the reason.
	p := newPool(t, &config.Upstream{Targets: weighted(1, 1), CircuitBreaker: &config.CircuitBreaker{
		ConsecutiveFailures: 1, OpenTimeout: time.Hour,
	}}, Options{})
	p.targets[0].healthy.Store(false)
	_, done, err := p.Pick("", nil)
	require.NoError(t, err)
	done(500, nil)
	_, _, err = p.Pick("", nil)
	var u *Unavailable
	require.ErrorAs(t, err, &u)
	assert.Equal(t, &Unavailable{Upstream: "billing", Reason: ReasonCircuitOpen, RetryAfter: time.Hour}, u)
}

func TestSnapshot(t *testing.T) {
	p := newPool(t, &config.Upstream{
		Targets:        weighted(1, 1, 1),
		Balance:        config.BalanceLeastRequests,
		PassiveHealth:  &config.PassiveHealth{ConsecutiveFailures: 1, EjectDuration: time.Hour},
		CircuitBreaker: &config.CircuitBreaker{ConsecutiveFailures: 5, OpenTimeout: time.Hour},
	}, Options{})
	_, done0, err := p.Pick("", nil) // target 0, stays in flight
	require.NoError(t, err)
	_, done1, err := p.Pick("", nil) // target 1, fails and is ejected
	require.NoError(t, err)
	done1(502, nil)
	p.targets[2].healthy.Store(false)
	assert.Equal(t, []TargetState{
		{Upstream: "billing", Target: "http://t0:80", Healthy: true, Breaker: "closed", InFlight: 1},
		{Upstream: "billing", Target: "http://t1:80", Healthy: true, Ejected: true, Breaker: "closed"},
		{Upstream: "billing", Target: "http://t2:80", Healthy: false, Breaker: "closed"},
	}, p.Snapshot())
	done0(200, nil)
}
