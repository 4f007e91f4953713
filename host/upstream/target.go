package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"

	"github.com/sony/gobreaker/v2"

	"github.com/wasmgate/gateway/host/config"
)

// Done records the outcome of one exchange with the target Pick returned. It
// must be called exactly once per successful Pick, with the response status
// (0 when there is none) and the transport error (nil when a response came).
// It updates the in-flight count (least_requests), passive health and the
// target's circuit breaker; see the package documentation for what counts as
// a failure.
type Done func(status int, err error)

// Target is one backend of a Pool.
type Target struct {
	pool   *Pool
	index  int
	raw    string
	url    *url.URL
	weight int

	// done is the Done of targets without a breaker, bound once so that Pick
	// does not allocate.
	done Done

	inFlight atomic.Int64
	// healthy is the verdict of active health checks; targets start healthy.
	healthy atomic.Bool
	// fails counts consecutive passive failures.
	fails atomic.Int64
	// ejectedUntil is the p.now() UnixNano when passive ejection ends; 0 = not ejected.
	ejectedUntil atomic.Int64

	// breaker is nil without a circuit breaker.
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	// state mirrors the breaker's state (a gobreaker.State) as last reported by
	// its OnStateChange, so Pick and Snapshot need not lock the breaker.
	state atomic.Int32
	// openUntil is the wall-clock UnixNano when the open breaker half-opens; 0 = not open.
	openUntil atomic.Int64
}

func newTarget(p *Pool, index int, tc *config.Target) (*Target, error) {
	if tc == nil {
		return nil, fmt.Errorf("target %d: missing; remove the empty target entry", index)
	}
	u, err := parseTargetURL(tc.URL)
	if err != nil {
		return nil, err
	}
	if tc.Weight < 0 {
		return nil, fmt.Errorf("target %q: weight %d is negative; use a weight of 1 or more", tc.URL, tc.Weight)
	}
	t := &Target{pool: p, index: index, raw: tc.URL, url: u, weight: max(tc.Weight, 1)}
	t.healthy.Store(true)
	t.done = t.finish
	return t, nil
}

// URL is the target's parsed URL: scheme, host and optional base path. It is
// shared and must not be modified.
func (t *Target) URL() *url.URL { return t.url }

// String is the target's URL as written in the config.
func (t *Target) String() string { return t.raw }

// finish records the outcome of one exchange for in-flight counting and
// passive health. The breaker outcome is recorded by the caller.
func (t *Target) finish(status int, err error) {
	t.inFlight.Add(-1)
	ph := t.pool.cfg.PassiveHealth
	if ph == nil || isCanceled(err) {
		return
	}
	if err == nil && status < 500 {
		if t.fails.Load() != 0 {
			t.fails.Store(0)
		}
		return
	}
	if t.fails.Add(1) < int64(ph.ConsecutiveFailures) {
		return
	}
	t.fails.Store(0)
	now := t.pool.now().UnixNano()
	if old := t.ejectedUntil.Swap(now + int64(ph.EjectDuration)); old == 0 || old <= now {
		t.pool.stateChange(t, "healthy", "ejected")
	}
}

// ejected reports whether passive health holds the target out at now
// (p.now().UnixNano()). The first caller to see an ejection expire clears it
// and reports the target healthy again.
func (t *Target) ejected(now int64) bool {
	until := t.ejectedUntil.Load()
	if until == 0 {
		return false
	}
	if now < until {
		return true
	}
	if t.ejectedUntil.CompareAndSwap(until, 0) {
		t.pool.stateChange(t, "ejected", "healthy")
	}
	return false
}

// isCanceled reports whether err means the client gave up, which says nothing
// about the target.
func isCanceled(err error) bool {
	return err != nil && errors.Is(err, context.Canceled)
}
