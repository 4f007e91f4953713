package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/internal/redistest"
)

// newClient returns a go-redis client for addr, closed at cleanup. Retries
// are off so that an outage shows up as errors immediately.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:        addr,
		MaxRetries:  -1,
		DialTimeout: time.Second,
		ReadTimeout: time.Second,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// slowRate is so slow that no token is refilled during a test.
const slowRate = 0.001

func TestRedisBurstThenDeny(t *testing.T) {
	addr, _ := redistest.Start(t)
	rl := NewRedis(newClient(t, addr), RedisOptions{})
	ctx := context.Background()
	const burst = 5
	for i := range burst {
		d, err := rl.Allow(ctx, "k", slowRate, burst)
		require.NoError(t, err)
		assert.True(t, d.Allowed, "request %d", i)
		assert.Equal(t, burst, d.Limit)
		assert.Equal(t, burst-1-i, d.Remaining)
		assert.Zero(t, d.RetryAfter)
		// Reset is (i+1) intervals of 1000s, less the few µs spent so far.
		assert.InDelta(t, float64(time.Duration(i+1)*1000*time.Second), float64(d.Reset), float64(time.Second))
	}
	d, err := rl.Allow(ctx, "k", slowRate, burst)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 0, d.Remaining)
	assert.InDelta(t, float64(1000*time.Second), float64(d.RetryAfter), float64(time.Second))
	assert.InDelta(t, float64(5000*time.Second), float64(d.Reset), float64(time.Second))

	// Other keys are independent.
	d, err = rl.Allow(ctx, "other", slowRate, burst)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, burst-1, d.Remaining)
}

func TestRedisRefillsAndExpires(t *testing.T) {
	addr, _ := redistest.Start(t)
	client := newClient(t, addr)
	rl := NewRedis(client, RedisOptions{Prefix: "test:"})
	ctx := context.Background()

	d, err := rl.Allow(ctx, "k", 50, 1) // one token per 20ms
	require.NoError(t, err)
	require.True(t, d.Allowed)
	assert.Equal(t, "{test:k}", rl.Key("k"))
	pttl, err := client.PTTL(ctx, rl.Key("k")).Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, time.Duration(0), "bucket key must carry a TTL")
	assert.LessOrEqual(t, pttl, 20*time.Millisecond)

	// The bucket refills by itself: a later request is admitted.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err = rl.Allow(ctx, "k", 50, 1)
		require.NoError(t, err)
		if d.Allowed {
			break
		}
		require.LessOrEqual(t, d.RetryAfter, 20*time.Millisecond)
		require.True(t, time.Now().Before(deadline), "bucket never refilled")
		time.Sleep(d.RetryAfter)
	}
	// And the idle key disappears from Redis once full.
	require.Eventually(t, func() bool {
		n, err := client.Exists(ctx, rl.Key("k")).Result()
		return err == nil && n == 0
	}, 5*time.Second, 5*time.Millisecond)
}

func TestRedisTwoInstancesShareOneLimit(t *testing.T) {
	addr, _ := redistest.Start(t)
	// Two clients with their own pools stand for two gateway instances.
	instances := []Limiter{
		NewRedis(newClient(t, addr), RedisOptions{}),
		NewRedis(newClient(t, addr), RedisOptions{}),
	}
	const burst, goroutinesPerInstance, each = 100, 4, 50 // 400 attempts
	var admitted [2]atomic.Int64
	var wg sync.WaitGroup
	for i, rl := range instances {
		for range goroutinesPerInstance {
			wg.Go(func() {
				for range each {
					d, err := rl.Allow(context.Background(), "global", slowRate, burst)
					if err != nil {
						t.Error(err)
						return
					}
					if d.Allowed {
						admitted[i].Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	assert.Equal(t, int64(burst), admitted[0].Load()+admitted[1].Load())
	assert.Positive(t, admitted[0].Load(), "instance 0 admitted nothing")
	assert.Positive(t, admitted[1].Load(), "instance 1 admitted nothing")
}

func TestRedisOutageFallbackAndRecovery(t *testing.T) {
	tests := []struct {
		name      string
		mode      FailMode
		expOutage Decision
	}{
		{"fail open", FailOpen, Decision{Allowed: true, Limit: 3, Remaining: 2}},
		{"fail closed", FailClosed, Decision{Limit: 3, RetryAfter: time.Second, Reset: time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.NewServer(t)
			rl := NewRedis(newClient(t, srv.Addr()), RedisOptions{})
			var errCount atomic.Int64
			firstErr := make(chan struct{})
			var once sync.Once
			onError := func(error) {
				errCount.Add(1)
				once.Do(func() { close(firstErr) })
			}
			lim := WithFallback(rl, tc.mode, onError)
			ctx := context.Background()

			// Exhaust the bucket while Redis is up.
			for range 4 {
				_, err := lim.Allow(ctx, "k", slowRate, 3)
				require.NoError(t, err)
			}
			require.Zero(t, errCount.Load())

			// Keep load running while Redis dies and comes back. Each load
			// goroutine sees whether its own primary call failed, and
			// checks the fallback decision for those calls.
			stop := make(chan struct{})
			var outageDecisions atomic.Int64
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					var lastErr error
					load := WithFallback(limiterFunc(func(ctx context.Context, key string, rate float64, burst int) (Decision, error) {
						d, err := rl.Allow(ctx, key, rate, burst)
						lastErr = err
						return d, err
					}), tc.mode, onError)
					for {
						select {
						case <-stop:
							return
						default:
						}
						d, err := load.Allow(ctx, "load", slowRate, 3)
						if err != nil {
							t.Error(err)
							return
						}
						if lastErr != nil {
							outageDecisions.Add(1)
							if d != tc.expOutage {
								t.Errorf("decision during outage %+v, want %+v", d, tc.expOutage)
								return
							}
						}
					}
				})
			}
			srv.Kill()
			<-firstErr
			// Direct calls during the outage: the error reaches the
			// callback and the mode decides.
			d, err := lim.Allow(ctx, "k", slowRate, 3)
			require.NoError(t, err)
			assert.Equal(t, tc.expOutage, d)
			_, err = rl.Allow(ctx, "k", slowRate, 3)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ratelimit: redis decision: ")

			srv.Restart()
			// The same client recovers without being recreated.
			require.Eventually(t, func() bool {
				_, err := rl.Allow(ctx, "recovered", slowRate, 3)
				return err == nil
			}, 10*time.Second, 10*time.Millisecond)
			close(stop)
			wg.Wait()

			assert.Positive(t, errCount.Load())
			assert.Positive(t, outageDecisions.Load())
			// Redis restarted empty, so the key has a full bucket again.
			d, err = rl.Allow(ctx, "k", slowRate, 3)
			require.NoError(t, err)
			assert.Equal(t, true, d.Allowed)
			assert.Equal(t, 2, d.Remaining)
		})
	}
}

func TestRedisInvalidLimitNeedsNoRoundTrip(t *testing.T) {
	// A client pointing nowhere: an invalid limit must fail before any I/O.
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	_, err := NewRedis(c, RedisOptions{}).Allow(context.Background(), "k", 0, 1)
	assert.ErrorIs(t, err, ErrInvalidLimit)
}

// limiterFunc adapts a function to Limiter.
type limiterFunc func(ctx context.Context, key string, rate float64, burst int) (Decision, error)

func (f limiterFunc) Allow(ctx context.Context, key string, rate float64, burst int) (Decision, error) {
	return f(ctx, key, rate, burst)
}

// errLimiter fails every call with err.
type errLimiter struct{ err error }

func (e errLimiter) Allow(context.Context, string, float64, int) (Decision, error) {
	return Decision{}, e.err
}

func TestWithFallback(t *testing.T) {
	outage := errors.New("connection refused")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		mode      FailMode
		ctx       context.Context
		err       error
		exp       Decision
		expErr    error
		expCounts int64
	}{
		{"open on outage", FailOpen, context.Background(), outage, Decision{Allowed: true, Limit: 10, Remaining: 9}, nil, 1},
		{"closed on outage", FailClosed, context.Background(), outage, Decision{Limit: 10, RetryAfter: time.Second, Reset: time.Second}, nil, 1},
		{"invalid limit passes through", FailOpen, context.Background(), ErrInvalidLimit, Decision{}, ErrInvalidLimit, 0},
		{"done ctx passes through", FailClosed, canceled, context.Canceled, Decision{}, context.Canceled, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			lim := WithFallback(errLimiter{tc.err}, tc.mode, func(err error) {
				assert.ErrorIs(t, err, tc.err)
				n.Add(1)
			})
			d, err := lim.Allow(tc.ctx, "k", 1, 10)
			if tc.expErr != nil {
				require.ErrorIs(t, err, tc.expErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.exp, d)
			assert.Equal(t, tc.expCounts, n.Load())
		})
	}
	// A nil callback is allowed.
	d, err := WithFallback(errLimiter{outage}, FailClosed, nil).Allow(context.Background(), "k", 1, 1)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
}

func TestFailModeString(t *testing.T) {
	assert.Equal(t, "open", FailOpen.String())
	assert.Equal(t, "closed", FailClosed.String())
	assert.Equal(t, "FailMode(7)", FailMode(7).String())
}
