package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Decision is the outcome of one Allow call.
type Decision struct {
	// Allowed reports whether the request may proceed. A denied request
	// consumed nothing.
	Allowed bool
	// Limit is the bucket size (the burst).
	Limit int
	// Remaining is the number of whole requests that could be admitted
	// right now, after this one.
	Remaining int
	// RetryAfter is how long a denied request should wait before one more
	// request would be admitted. It is zero when Allowed.
	RetryAfter time.Duration
	// Reset is how long until the bucket is full again.
	Reset time.Duration
}

// Limiter decides whether one request for key may proceed under a token
// bucket of size burst refilled at rate tokens per second. Each key has its
// own bucket; callers put the limit's scope in the key (for example
// "route:api|key:abc"). rate and burst may change between calls for the
// same key (for example after a config reload); the new values apply from
// that call on.
type Limiter interface {
	Allow(ctx context.Context, key string, rate float64, burst int) (Decision, error)
}

// ErrInvalidLimit is returned (wrapped) when rate or burst is out of range.
var ErrInvalidLimit = errors.New("invalid rate limit")

// maxBurst bounds burst so that burst*interval cannot overflow int64
// nanoseconds for any rate the gateway accepts.
const maxBurst = 1 << 30

// minRate is the lowest accepted rate: one request per ~11.6 days.
const minRate = 1e-6

// checkLimit validates rate and burst and returns the emission interval.
func checkLimit(rate float64, burst int) (time.Duration, error) {
	if !(rate >= minRate) || math.IsInf(rate, 0) || burst < 1 || burst > maxBurst {
		return 0, fmt.Errorf("ratelimit: rate %v/s with burst %d: %w; use a rate of at least %g per second and a burst between 1 and %d",
			rate, burst, ErrInvalidLimit, minRate, maxBurst)
	}
	iv := time.Duration(float64(time.Second) / rate)
	if iv < 1 {
		iv = 1
	}
	return iv, nil
}

// gcra applies one request at now (nanoseconds on any monotonic scale) to
// a bucket whose theoretical arrival time is tat, and returns the decision
// and the new tat. Times are int64 nanoseconds so that a fake clock gives
// exact results.
func gcra(now, tat int64, interval time.Duration, burst int) (Decision, int64) {
	iv := int64(interval)
	if tat < now {
		tat = now
	}
	window := iv * int64(burst) // time to refill an empty bucket
	newTAT := tat + iv
	allowAt := newTAT - window
	d := Decision{Limit: burst}
	if now < allowAt {
		d.RetryAfter = time.Duration(allowAt - now)
		d.Reset = time.Duration(tat - now)
		d.Remaining = 0
		return d, tat
	}
	d.Allowed = true
	d.Reset = time.Duration(newTAT - now)
	d.Remaining = int((now - allowAt) / iv)
	return d, newTAT
}
