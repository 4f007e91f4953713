package quota

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the default RedisOptions.Prefix.
const DefaultRedisPrefix = "quota:"

// RedisOptions configures NewRedis. The zero value is usable.
type RedisOptions struct {
	// Prefix starts every key the counter writes. Default
	// DefaultRedisPrefix.
	Prefix string
	// Now is the clock that picks the current period and day. Default
	// time.Now. Instances should run NTP: near a period boundary an
	// instance whose clock is off by d counts into the neighbouring period
	// for d.
	Now func() time.Time
	// History is how long per-day usage is kept. Default DefaultHistory.
	History time.Duration
}

// Redis is a Counter shared by every gateway instance using the same Redis
// and Prefix.
//
// For a key K, all its Redis keys share the hash tag {<prefix>K}, so they
// live in one Redis Cluster slot and one script can update them together:
//
//	{quota:K}:day:20240131    hash {used, limit} of the period starting that day
//	{quota:K}:week:20240129
//	{quota:K}:month:20240101
//	{quota:K}:d:20240131      requests admitted on that UTC day
//
// Period counters expire a day after their period ends, day counters after
// History.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	now     func() time.Time
	history time.Duration
}

// Interface guard.
var _ Counter = (*Redis)(nil)

// consumeScript admits and counts one request, or refuses it, atomically.
//
//	KEYS[1]  period counter (hash)
//	KEYS[2]  day counter
//	ARGV[1]  limit
//	ARGV[2]  period counter TTL, ms
//	ARGV[3]  day counter TTL, ms
//
// TTLs are relative (PEXPIRE, not PEXPIREAT) so that they do not depend on
// the gateway and Redis clocks agreeing.
//
// It returns {allowed (0|1), used}. A refused request writes nothing.
var consumeScript = redis.NewScript(`
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
if used >= limit then
  return {0, used}
end
used = redis.call('HINCRBY', KEYS[1], 'used', 1)
redis.call('HSET', KEYS[1], 'limit', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, used}
`)

// NewRedis returns a counter that keeps its counts in Redis through client.
// The caller owns client and closes it.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{client: client, prefix: opts.Prefix, now: opts.Now, history: opts.History}
	if r.prefix == "" {
		r.prefix = DefaultRedisPrefix
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.history <= 0 {
		r.history = DefaultHistory
	}
	return r
}

// PeriodKey returns the Redis key of key's counter for the period
// containing t.
func (r *Redis) PeriodKey(key string, p Period, t time.Time) string {
	return "{" + r.prefix + key + "}:" + string(p) + ":" + p.Start(t).Format("20060102")
}

// DayKey returns the Redis key of key's per-day counter for t's UTC day.
func (r *Redis) DayKey(key string, t time.Time) string {
	return "{" + r.prefix + key + "}:d:" + t.UTC().Format("20060102")
}

// Consume implements Counter with one Redis round trip.
func (r *Redis) Consume(ctx context.Context, key string, limit int64, period Period) (bool, Usage, error) {
	if err := checkConsume(limit, period); err != nil {
		return false, Usage{}, err
	}
	now := r.now()
	end := period.End(now)
	u := Usage{Limit: limit, Period: string(period), ResetAt: end}
	if limit == 0 {
		return false, u, nil
	}
	periodTTL := end.Add(24 * time.Hour).Sub(now).Milliseconds()
	dayTTL := Day.End(now).Add(r.history).Sub(now).Milliseconds()
	res, err := consumeScript.Run(ctx, r.client,
		[]string{r.PeriodKey(key, period, now), r.DayKey(key, now)},
		limit, periodTTL, dayTTL).Int64Slice()
	if err != nil {
		return false, Usage{}, fmt.Errorf("quota: redis consume: %w; check that redis is reachable", err)
	}
	if len(res) != 2 {
		return false, Usage{}, fmt.Errorf("quota: redis consume: script returned %d values, want 2; check that no other program writes keys under prefix %q", len(res), r.prefix)
	}
	u.Used = res[1]
	return res[0] == 1, u, nil
}

// Get implements Counter.
func (r *Redis) Get(ctx context.Context, key string, period Period) (Usage, error) {
	if err := checkConsume(0, period); err != nil {
		return Usage{}, err
	}
	now := r.now()
	u := Usage{Period: string(period), ResetAt: period.End(now)}
	vals, err := r.client.HMGet(ctx, r.PeriodKey(key, period, now), "used", "limit").Result()
	if err != nil {
		return Usage{}, fmt.Errorf("quota: redis get usage: %w; check that redis is reachable", err)
	}
	if u.Used, err = parseCount(vals[0]); err != nil {
		return Usage{}, err
	}
	if u.Limit, err = parseCount(vals[1]); err != nil {
		return Usage{}, err
	}
	return u, nil
}

// Usage implements Counter with one MGET.
func (r *Redis) Usage(ctx context.Context, key string, from, to time.Time) ([]DayUsage, error) {
	ds, err := days(from, to)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = r.DayKey(key, d)
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("quota: redis get daily usage: %w; check that redis is reachable", err)
	}
	out := make([]DayUsage, len(ds))
	for i, d := range ds {
		out[i].Day = d
		if out[i].Used, err = parseCount(vals[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Reset implements Counter.
func (r *Redis) Reset(ctx context.Context, key string) error {
	now := r.now()
	ps := allPeriods()
	keys := make([]string, 0, len(ps))
	for _, p := range ps {
		keys = append(keys, r.PeriodKey(key, p, now))
	}
	if err := r.client.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("quota: redis reset: %w; check that redis is reachable", err)
	}
	return nil
}

// parseCount converts a reply value (nil for a missing key or field) to a
// count.
func parseCount(v any) (int64, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("quota: redis counter holds %q, not an integer: %w; check that no other program writes keys under this prefix", v, err)
		}
		return n, nil
	case int64:
		return v, nil
	}
	return 0, fmt.Errorf("quota: redis counter holds a %T, not an integer; check that no other program writes keys under this prefix", v)
}
