package quota

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/internal/redistest"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestPeriodBounds(t *testing.T) {
	tests := []struct {
		name     string
		period   Period
		in       string
		expStart string
		expEnd   string
	}{
		{"day", Day, "2024-03-15T13:14:15Z", "2024-03-15T00:00:00Z", "2024-03-16T00:00:00Z"},
		{"day at midnight", Day, "2024-03-15T00:00:00Z", "2024-03-15T00:00:00Z", "2024-03-16T00:00:00Z"},
		{"day in another zone is a UTC day", Day, "2024-03-15T23:30:00-05:00", "2024-03-16T00:00:00Z", "2024-03-17T00:00:00Z"},
		{"week from wednesday", Week, "2024-01-03T10:00:00Z", "2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z"},
		{"week on monday", Week, "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z"},
		{"week on sunday belongs to the monday before", Week, "2024-01-07T23:59:59Z", "2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z"},
		{"week across a year", Week, "2025-01-01T12:00:00Z", "2024-12-30T00:00:00Z", "2025-01-06T00:00:00Z"},
		{"month", Month, "2024-03-31T23:59:59Z", "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z"},
		{"leap february", Month, "2024-02-29T12:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"december", Month, "2024-12-15T00:00:00Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := time.Parse(time.RFC3339, tc.in)
			require.NoError(t, err)
			assert.Equal(t, utc(tc.expStart), tc.period.Start(in))
			assert.Equal(t, utc(tc.expEnd), tc.period.End(in))
		})
	}
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in     string
		exp    Period
		expErr string
	}{
		{"day", Day, ""},
		{"week", Week, ""},
		{"month", Month, ""},
		{"year", "", `quota: period "year": invalid quota request; use "day", "week" or "month"`},
		{"Day", "", `quota: period "Day": invalid quota request; use "day", "week" or "month"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParsePeriod(tc.in)
			if tc.expErr != "" {
				assert.EqualError(t, err, tc.expErr)
				assert.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, p)
		})
	}
}

// clock is a settable fake clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// implementations runs f against every Counter, each with its own fake clock.
func implementations(t *testing.T, f func(t *testing.T, c Counter, clk *clock)) {
	t.Run("local", func(t *testing.T) {
		clk := &clock{}
		f(t, NewLocal(LocalOptions{Now: clk.Now}), clk)
	})
	t.Run("redis", func(t *testing.T) {
		addr, _ := redistest.Start(t)
		clk := &clock{}
		f(t, NewRedis(newClient(t, addr), RedisOptions{Now: clk.Now}), clk)
	})
}

func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConsumeAcrossPeriodBoundaries(t *testing.T) {
	type step struct {
		at         string
		period     Period
		limit      int64
		expAllowed bool
		expUsed    int64
		expReset   string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"day", []step{
			{"2024-01-31T23:59:58Z", Day, 2, true, 1, "2024-02-01T00:00:00Z"},
			{"2024-01-31T23:59:59Z", Day, 2, true, 2, "2024-02-01T00:00:00Z"},
			{"2024-01-31T23:59:59.999Z", Day, 2, false, 2, "2024-02-01T00:00:00Z"},
			{"2024-02-01T00:00:00Z", Day, 2, true, 1, "2024-02-02T00:00:00Z"},
		}},
		{"week", []step{
			{"2024-01-01T00:00:00Z", Week, 2, true, 1, "2024-01-08T00:00:00Z"},
			{"2024-01-05T00:00:00Z", Week, 2, true, 2, "2024-01-08T00:00:00Z"},
			{"2024-01-07T23:59:59Z", Week, 2, false, 2, "2024-01-08T00:00:00Z"},
			{"2024-01-08T00:00:00Z", Week, 2, true, 1, "2024-01-15T00:00:00Z"},
		}},
		{"month", []step{
			{"2024-02-01T00:00:00Z", Month, 1, true, 1, "2024-03-01T00:00:00Z"},
			{"2024-02-29T23:59:59Z", Month, 1, false, 1, "2024-03-01T00:00:00Z"},
			{"2024-03-01T00:00:00Z", Month, 1, true, 1, "2024-04-01T00:00:00Z"},
		}},
		{"raised limit admits more, lowered refuses", []step{
			{"2024-05-01T00:00:00Z", Day, 1, true, 1, "2024-05-02T00:00:00Z"},
			{"2024-05-01T01:00:00Z", Day, 1, false, 1, "2024-05-02T00:00:00Z"},
			{"2024-05-01T02:00:00Z", Day, 3, true, 2, "2024-05-02T00:00:00Z"},
			{"2024-05-01T03:00:00Z", Day, 1, false, 2, "2024-05-02T00:00:00Z"},
		}},
		{"zero limit refuses", []step{
			{"2024-05-01T00:00:00Z", Month, 0, false, 0, "2024-06-01T00:00:00Z"},
		}},
	}
	implementations(t, func(t *testing.T, c Counter, clk *clock) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				for i, s := range tc.steps {
					clk.Set(utc(s.at))
					ok, u, err := c.Consume(ctx, tc.name, s.limit, s.period)
					require.NoError(t, err)
					assert.Equal(t, s.expAllowed, ok, "step %d", i)
					assert.Equal(t, Usage{Used: s.expUsed, Limit: s.limit, Period: string(s.period), ResetAt: utc(s.expReset)}, u, "step %d", i)
					g, err := c.Get(ctx, tc.name, s.period)
					require.NoError(t, err)
					assert.Equal(t, s.expUsed, g.Used, "get after step %d", i)
				}
			})
		}
	})
}

func TestPeriodsAreIndependentAndResettable(t *testing.T) {
	implementations(t, func(t *testing.T, c Counter, clk *clock) {
		ctx := context.Background()
		clk.Set(utc("2024-06-12T10:00:00Z"))
		for range 3 {
			ok, _, err := c.Consume(ctx, "k", 10, Day)
			require.NoError(t, err)
			require.True(t, ok)
		}
		ok, _, err := c.Consume(ctx, "k", 10, Month)
		require.NoError(t, err)
		require.True(t, ok)

		day, err := c.Get(ctx, "k", Day)
		require.NoError(t, err)
		assert.Equal(t, Usage{Used: 3, Limit: 10, Period: "day", ResetAt: utc("2024-06-13T00:00:00Z")}, day)
		month, err := c.Get(ctx, "k", Month)
		require.NoError(t, err)
		assert.Equal(t, int64(1), month.Used)
		week, err := c.Get(ctx, "k", Week)
		require.NoError(t, err)
		assert.Equal(t, Usage{Period: "week", ResetAt: utc("2024-06-17T00:00:00Z")}, week)
		other, err := c.Get(ctx, "other", Day)
		require.NoError(t, err)
		assert.Zero(t, other.Used)

		require.NoError(t, c.Reset(ctx, "k"))
		day, err = c.Get(ctx, "k", Day)
		require.NoError(t, err)
		assert.Zero(t, day.Used)
		month, err = c.Get(ctx, "k", Month)
		require.NoError(t, err)
		assert.Zero(t, month.Used)
		// History survives a reset.
		us, err := c.Usage(ctx, "k", clk.Now(), clk.Now())
		require.NoError(t, err)
		assert.Equal(t, []DayUsage{{Day: utc("2024-06-12T00:00:00Z"), Used: 4}}, us)
	})
}

func TestUsagePerDay(t *testing.T) {
	implementations(t, func(t *testing.T, c Counter, clk *clock) {
		ctx := context.Background()
		consume := func(at string, n int) {
			clk.Set(utc(at))
			for range n {
				_, _, err := c.Consume(ctx, "k", 1000, Month)
				require.NoError(t, err)
			}
		}
		consume("2024-02-27T08:00:00Z", 2)
		consume("2024-02-28T23:59:59Z", 3)
		consume("2024-03-01T00:00:00Z", 1) // new month, same history
		// A refused request is not usage.
		clk.Set(utc("2024-03-01T01:00:00Z"))
		ok, _, err := c.Consume(ctx, "k", 1, Month)
		require.NoError(t, err)
		require.False(t, ok)

		got, err := c.Usage(ctx, "k", utc("2024-02-26T12:00:00Z"), utc("2024-03-02T00:00:00Z"))
		require.NoError(t, err)
		assert.Equal(t, []DayUsage{
			{Day: utc("2024-02-26T00:00:00Z"), Used: 0},
			{Day: utc("2024-02-27T00:00:00Z"), Used: 2},
			{Day: utc("2024-02-28T00:00:00Z"), Used: 3},
			{Day: utc("2024-02-29T00:00:00Z"), Used: 0},
			{Day: utc("2024-03-01T00:00:00Z"), Used: 1},
			{Day: utc("2024-03-02T00:00:00Z"), Used: 0},
		}, got)
	})
}

func TestInvalidRequests(t *testing.T) {
	tests := []struct {
		name   string
		call   func(c Counter) error
		expErr string
	}{
		{"unknown period", func(c Counter) error {
			_, _, err := c.Consume(context.Background(), "k", 1, "year")
			return err
		}, `quota: period "year": invalid quota request; use quota.Day, quota.Week or quota.Month`},
		{"negative limit", func(c Counter) error {
			_, _, err := c.Consume(context.Background(), "k", -1, Day)
			return err
		}, "quota: limit -1: invalid quota request; use a limit of 0 or more"},
		{"get unknown period", func(c Counter) error {
			_, err := c.Get(context.Background(), "k", "hour")
			return err
		}, `quota: period "hour": invalid quota request; use quota.Day, quota.Week or quota.Month`},
		{"usage range reversed", func(c Counter) error {
			_, err := c.Usage(context.Background(), "k", utc("2024-01-02T00:00:00Z"), utc("2024-01-01T00:00:00Z"))
			return err
		}, "quota: usage from 2024-01-02 to 2024-01-01: invalid quota request; from must not be after to"},
		{"usage range too long", func(c Counter) error {
			_, err := c.Usage(context.Background(), "k", utc("2023-01-01T00:00:00Z"), utc("2024-01-02T00:00:00Z"))
			return err
		}, "quota: usage from 2023-01-01 to 2024-01-02 spans 367 days: invalid quota request; ask for at most 366 days per call"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Validation happens before any I/O, so an unreachable Redis
			// gives the same errors.
			c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
			t.Cleanup(func() { _ = c.Close() })
			for _, counter := range []Counter{NewLocal(LocalOptions{}), NewRedis(c, RedisOptions{})} {
				err := tc.call(counter)
				assert.EqualError(t, err, tc.expErr)
				assert.ErrorIs(t, err, ErrInvalid)
			}
		})
	}
}

func TestNeverExceedsLimitConcurrently(t *testing.T) {
	const limit, goroutines, each = 300, 8, 100 // 800 attempts
	hammer := func(t *testing.T, counters []Counter) {
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for g := range goroutines {
			c := counters[g%len(counters)]
			wg.Go(func() {
				for range each {
					ok, u, err := c.Consume(context.Background(), "hot", limit, Day)
					if err != nil {
						t.Error(err)
						return
					}
					if u.Used > limit {
						t.Errorf("usage %d exceeds limit %d", u.Used, limit)
					}
					if ok {
						admitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int64(limit), admitted.Load())
		u, err := counters[0].Get(context.Background(), "hot", Day)
		require.NoError(t, err)
		assert.Equal(t, int64(limit), u.Used)
		days, err := counters[0].Usage(context.Background(), "hot", time.Now(), time.Now())
		require.NoError(t, err)
		assert.Equal(t, int64(limit), days[0].Used)
	}
	t.Run("local", func(t *testing.T) {
		hammer(t, []Counter{NewLocal(LocalOptions{})})
	})
	t.Run("redis two instances", func(t *testing.T) {
		addr, _ := redistest.Start(t)
		hammer(t, []Counter{
			NewRedis(newClient(t, addr), RedisOptions{}),
			NewRedis(newClient(t, addr), RedisOptions{}),
		})
	})
}

func TestRedisKeysExpire(t *testing.T) {
	addr, _ := redistest.Start(t)
	client := newClient(t, addr)
	now := time.Now().UTC()
	r := NewRedis(client, RedisOptions{Prefix: "q:", Now: func() time.Time { return now }, History: 48 * time.Hour})
	ctx := context.Background()
	_, _, err := r.Consume(ctx, "k", 5, Week)
	require.NoError(t, err)

	pk := r.PeriodKey("k", Week, now)
	assert.Equal(t, "{q:k}:week:"+Week.Start(now).Format("20060102"), pk)
	// TTLs only shrink after the write, so they are at most the full span.
	ttl, err := client.PTTL(ctx, pk).Result()
	require.NoError(t, err)
	full := Week.End(now).Add(24 * time.Hour).Sub(now)
	assert.LessOrEqual(t, ttl, full)
	assert.Greater(t, ttl, full-time.Minute)

	dk := r.DayKey("k", now)
	assert.Equal(t, "{q:k}:d:"+now.Format("20060102"), dk)
	ttl, err = client.PTTL(ctx, dk).Result()
	require.NoError(t, err)
	full = Day.End(now).Add(48 * time.Hour).Sub(now)
	assert.LessOrEqual(t, ttl, full)
	assert.Greater(t, ttl, full-time.Minute)
}

func TestLocalHistoryAndSweep(t *testing.T) {
	clk := &clock{}
	l := NewLocal(LocalOptions{Now: clk.Now, History: 2 * 24 * time.Hour})
	ctx := context.Background()
	clk.Set(utc("2024-01-01T12:00:00Z"))
	_, _, err := l.Consume(ctx, "old", 10, Day)
	require.NoError(t, err)
	clk.Set(utc("2024-01-03T12:00:00Z"))
	_, _, err = l.Consume(ctx, "old", 10, Day)
	require.NoError(t, err)
	_, _, err = l.Consume(ctx, "new", 10, Day)
	require.NoError(t, err)

	// 2024-01-01 is outside two days of history now.
	got, err := l.Usage(ctx, "old", utc("2024-01-01T00:00:00Z"), utc("2024-01-03T00:00:00Z"))
	require.NoError(t, err)
	assert.Equal(t, []int64{0, 0, 1}, []int64{got[0].Used, got[1].Used, got[2].Used})

	assert.Equal(t, 0, l.Sweep(), "both keys are live")
	clk.Set(utc("2024-01-10T00:00:00Z"))
	assert.Equal(t, 2, l.Sweep())
	assert.Equal(t, 0, l.Sweep())
}
