package upstream

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/wasmgate/gateway/host/config"
)

// defaultTripFailures is the ConsecutiveFailures used when a breaker block sets
// neither consecutive_failures nor failure_ratio.
const defaultTripFailures = 5

// Outcomes handed to a breaker's done callback. gobreaker only sees errors, so
// a failed status is reported as errBreakerFailure and client cancellation as
// errBreakerExcluded (counted neither way).
var (
	errBreakerFailure  = errors.New("upstream: target failed")
	errBreakerExcluded = errors.New("upstream: client canceled")
)

// checkBreaker rejects breaker settings gobreaker would silently reinterpret.
func checkBreaker(cb *config.CircuitBreaker) error {
	switch {
	case cb.ConsecutiveFailures < 0:
		return fmt.Errorf("circuit breaker: consecutive_failures %d is negative; use 0 (unused) or more", cb.ConsecutiveFailures)
	case cb.FailureRatio < 0 || cb.FailureRatio > 1:
		return fmt.Errorf("circuit breaker: failure_ratio %g is out of range; use a value in (0, 1], or 0 for unused", cb.FailureRatio)
	case cb.MinRequests < 0:
		return fmt.Errorf("circuit breaker: min_requests %d is negative; use 0 or more", cb.MinRequests)
	case cb.HalfOpenRequests < 0:
		return fmt.Errorf("circuit breaker: half_open_requests %d is negative; use 1 or more", cb.HalfOpenRequests)
	case cb.OpenTimeout < 0 || cb.Interval < 0:
		return fmt.Errorf("circuit breaker: open_timeout (%s) and interval (%s) must not be negative", cb.OpenTimeout, cb.Interval)
	}
	return nil
}

// newBreaker builds t's breaker. Its state changes update t's mirror of the
// state and are reported through p.stateChange.
func newBreaker(p *Pool, t *Target, cb *config.CircuitBreaker) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	consecutive := uint32(cb.ConsecutiveFailures)
	if cb.ConsecutiveFailures == 0 && cb.FailureRatio == 0 {
		consecutive = defaultTripFailures
	}
	ratio, minRequests := cb.FailureRatio, uint32(max(cb.MinRequests, 1))
	openTimeout := cb.OpenTimeout
	if openTimeout <= 0 {
		openTimeout = 60 * time.Second // gobreaker's default; kept here for RetryAfter
	}
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        p.cfg.Name + " " + t.raw,
		MaxRequests: uint32(max(cb.HalfOpenRequests, 1)),
		Interval:    cb.Interval,
		Timeout:     openTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if consecutive > 0 && c.ConsecutiveFailures >= consecutive {
				return true
			}
			if ratio > 0 {
				seen := c.TotalSuccesses + c.TotalFailures
				return seen >= minRequests && float64(c.TotalFailures) >= ratio*float64(seen)
			}
			return false
		},
		IsExcluded: func(err error) bool { return err == errBreakerExcluded },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				t.openUntil.Store(time.Now().Add(openTimeout).UnixNano())
			} else {
				t.openUntil.Store(0)
			}
			t.state.Store(int32(to))
			p.stateChange(t, from.String(), to.String())
		},
	})
}

// breakerOutcome translates a Done call into the error gobreaker expects.
func breakerOutcome(cb *config.CircuitBreaker, status int, err error) error {
	switch {
	case isCanceled(err):
		return errBreakerExcluded
	case err != nil:
		return errBreakerFailure
	case len(cb.FailureStatuses) == 0:
		if status >= 500 {
			return errBreakerFailure
		}
	case slices.Contains(cb.FailureStatuses, status):
		return errBreakerFailure
	}
	return nil
}

// breakerState names the breaker state at wall (time.Now().UnixNano()) without
// locking the breaker. An open breaker whose timeout has passed is reported
// half-open: gobreaker moves it there on the next request.
func (t *Target) breakerState(wall int64) string {
	if t.breaker == nil {
		return gobreaker.StateClosed.String()
	}
	s := gobreaker.State(t.state.Load())
	if s == gobreaker.StateOpen {
		if until := t.openUntil.Load(); until != 0 && wall >= until {
			s = gobreaker.StateHalfOpen
		}
	}
	return s.String()
}
