package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a manually advanced clock safe for concurrent reads.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestLocal(t *testing.T, clk *fakeClock, opts LocalOptions) *Local {
	t.Helper()
	opts.Now = clk.Now
	opts.SweepInterval = -1
	l := NewLocal(opts)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	return l
}

func TestLocalBurstThenRate(t *testing.T) {
	const rate, burst = 10.0, 5 // one token every 100ms
	type step struct {
		advance time.Duration
		exp     Decision
	}
	allow := func(rem int, reset time.Duration) Decision {
		return Decision{Allowed: true, Limit: burst, Remaining: rem, Reset: reset}
	}
	deny := func(retry, reset time.Duration) Decision {
		return Decision{Limit: burst, RetryAfter: retry, Reset: reset}
	}
	ms := time.Millisecond
	steps := []step{
		// A new key starts with a full bucket: burst requests at once.
		{0, allow(4, 100*ms)},
		{0, allow(3, 200*ms)},
		{0, allow(2, 300*ms)},
		{0, allow(1, 400*ms)},
		{0, allow(0, 500*ms)},
		{0, deny(100*ms, 500*ms)},
		{40 * ms, deny(60*ms, 460*ms)},
		// Then exactly rate per second: one token per 100ms.
		{60 * ms, allow(0, 500*ms)},
		{0, deny(100*ms, 500*ms)},
		{100 * ms, allow(0, 500*ms)},
		{250 * ms, allow(1, 350*ms)},
		{0, allow(0, 450*ms)},
		{0, deny(50*ms, 450*ms)},
		// A long idle period refills to burst, never beyond.
		{time.Hour, allow(4, 100*ms)},
		{0, allow(3, 200*ms)},
		{0, allow(2, 300*ms)},
		{0, allow(1, 400*ms)},
		{0, allow(0, 500*ms)},
		{0, deny(100*ms, 500*ms)},
	}
	clk := newFakeClock()
	l := newTestLocal(t, clk, LocalOptions{})
	for i, s := range steps {
		clk.Advance(s.advance)
		d, err := l.Allow(context.Background(), "k", rate, burst)
		require.NoError(t, err)
		assert.Equal(t, s.exp, d, "step %d", i)
	}
	// Another key has its own bucket.
	d, err := l.Allow(context.Background(), "other", rate, burst)
	require.NoError(t, err)
	assert.Equal(t, allow(4, 100*ms), d)
}

func TestLocalAdmitsExactlyRateOverTime(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		step  time.Duration
		steps int
		exp   int
	}{
		// 10 s at 1000 req/s offered every 100µs (10/ms): burst + 10*1000.
		{"fast", 1000, 50, 100 * time.Microsecond, 100000, 50 + 10000},
		// Fractional rate: 0.5/s over 60 s, offered every 10 ms.
		{"slow", 0.5, 2, 10 * time.Millisecond, 6000, 2 + 30},
		// 3/s (interval truncates to 333.333333ms) over 30 s: the rounding
		// must not drift. (With burst 1 a full bucket cannot bank the
		// sub-millisecond remainders, which is token bucket semantics.)
		{"fractional interval", 3, 2, time.Millisecond, 30000, 2 + 90},
		{"fractional interval burst 1", 3, 1, time.Millisecond, 30000, 1 + 89},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			l := newTestLocal(t, clk, LocalOptions{})
			got := 0
			// Offer a request at 0, step, 2*step, ... steps*step.
			for i := range tc.steps + 1 {
				if i > 0 {
					clk.Advance(tc.step)
				}
				d, err := l.Allow(context.Background(), "k", tc.rate, tc.burst)
				require.NoError(t, err)
				if d.Allowed {
					got++
				}
			}
			assert.Equal(t, tc.exp, got)
		})
	}
}

func TestLocalRateChangeApplies(t *testing.T) {
	clk := newFakeClock()
	l := newTestLocal(t, clk, LocalOptions{})
	ctx := context.Background()
	for range 2 {
		d, err := l.Allow(ctx, "k", 1, 2)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	d, err := l.Allow(ctx, "k", 1, 2)
	require.NoError(t, err)
	assert.False(t, d.Allowed, "bucket of 2 is empty")
	// A reload raises the burst: the extra capacity is available at once.
	d, err = l.Allow(ctx, "k", 1, 3)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, 3, d.Limit)
}

func TestLocalConcurrentExactlyBurst(t *testing.T) {
	const burst, goroutines, each = 100, 16, 50
	clk := newFakeClock() // never advanced: no refill
	l := newTestLocal(t, clk, LocalOptions{Shards: 4})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				d, err := l.Allow(context.Background(), "shared", 1, burst)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(burst), admitted.Load())
}

func TestLocalRealClockAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 2s; skipped with -short")
	}
	// The burst absorbs scheduling gaps of the polling loop: with burst 1, a
	// loop descheduled for 10ms on a busy CI machine loses the tokens that
	// expired meanwhile, which measures the scheduler, not the limiter.
	const rate, burst, window = 500.0, 50, 2 * time.Second
	l := NewLocal(LocalOptions{})
	t.Cleanup(func() { _ = l.Close() })
	admitted := 0
	start := time.Now()
	for time.Since(start) < window {
		d, err := l.Allow(context.Background(), "k", rate, burst)
		require.NoError(t, err)
		if d.Allowed {
			admitted++
		}
	}
	elapsed := time.Since(start)
	exp := burst + rate*elapsed.Seconds()
	assert.InEpsilon(t, exp, float64(admitted), 0.05, "admitted %d in %s, want %.0f±5%%", admitted, elapsed, exp)
}

func TestLocalSweepDropsOnlyFullBuckets(t *testing.T) {
	clk := newFakeClock()
	l := newTestLocal(t, clk, LocalOptions{})
	ctx := context.Background()
	_, err := l.Allow(ctx, "fast", 10, 1) // full again after 100ms
	require.NoError(t, err)
	_, err = l.Allow(ctx, "slow", 1, 1) // full again after 1s
	require.NoError(t, err)
	require.Equal(t, 2, l.Len())

	clk.Advance(500 * time.Millisecond)
	assert.Equal(t, 1, l.Sweep())
	assert.Equal(t, 1, l.Len())
	d, err := l.Allow(ctx, "slow", 1, 1)
	require.NoError(t, err)
	assert.False(t, d.Allowed, "the slow bucket must survive the sweep")

	clk.Advance(2 * time.Second)
	assert.Equal(t, 1, l.Sweep())
	assert.Equal(t, 0, l.Len())
}

func TestLocalMaxKeysBoundsMemory(t *testing.T) {
	clk := newFakeClock()
	l := newTestLocal(t, clk, LocalOptions{Shards: 1, MaxKeys: 8})
	ctx := context.Background()
	for i := range 100 {
		_, err := l.Allow(ctx, string(rune('a'+i%26))+string(rune('A'+i/26)), 1, 5)
		require.NoError(t, err)
		assert.LessOrEqual(t, l.Len(), 8)
	}
}

func TestLocalInvalidLimit(t *testing.T) {
	tests := []struct {
		name   string
		rate   float64
		burst  int
		expErr string
	}{
		{"zero rate", 0, 1, "ratelimit: rate 0/s with burst 1: invalid rate limit; use a rate of at least 1e-06 per second and a burst between 1 and 1073741824"},
		{"negative rate", -1, 1, "ratelimit: rate -1/s with burst 1: invalid rate limit; use a rate of at least 1e-06 per second and a burst between 1 and 1073741824"},
		{"zero burst", 10, 0, "ratelimit: rate 10/s with burst 0: invalid rate limit; use a rate of at least 1e-06 per second and a burst between 1 and 1073741824"},
	}
	l := newTestLocal(t, newFakeClock(), LocalOptions{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Allow(context.Background(), "k", tc.rate, tc.burst)
			require.ErrorIs(t, err, ErrInvalidLimit)
			assert.EqualError(t, err, tc.expErr)
		})
	}
}

func TestLocalBackgroundSweeperStops(t *testing.T) {
	l := NewLocal(LocalOptions{SweepInterval: time.Millisecond})
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())
	d, err := l.Allow(context.Background(), "k", 1, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}
