package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the default RedisOptions.Prefix.
const DefaultRedisPrefix = "rl:"

// RedisOptions configures NewRedis. The zero value is usable.
type RedisOptions struct {
	// Prefix starts every key the limiter writes. Default
	// DefaultRedisPrefix. Gateways sharing one Redis for different
	// purposes use different prefixes.
	Prefix string
}

// Redis is a Limiter whose buckets live in Redis, so that every gateway
// instance using the same Redis (and Prefix) enforces one global limit.
//
// Each Allow is one round trip: EVALSHA of a Lua script (falling back to
// EVAL once if the server does not have the script cached, for example
// after a restart). The script reads the clock with TIME on the Redis
// server, so gateway clocks do not matter. The bucket is stored under
// "{<prefix><key>}" (one key, with a hash tag so the layout also suits Redis
// Cluster) and expires as soon as the bucket is full again, so idle keys
// cost no memory.
//
// Redis errors are returned wrapped; go-redis reconnects by itself on the
// next call. Wrap a Redis limiter with WithFallback to decide what happens
// while Redis is unreachable.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// Interface guard.
var _ Limiter = (*Redis)(nil)

// gcraScript is the Lua form of gcra. Times are integer microseconds on the
// Redis server clock.
//
//	KEYS[1]  bucket key
//	ARGV[1]  emission interval in microseconds (may be fractional)
//	ARGV[2]  burst
//
// It returns {allowed (0|1), remaining, retry_after_us, reset_us}.
// Integers are written with %.0f because tostring would print large numbers
// in exponent form and lose precision.
var gcraScript = redis.NewScript(`
local iv = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local newtat = tat + iv
local allowat = newtat - iv * burst
if now < allowat then
  return {0, 0, math.ceil(allowat - now), math.ceil(tat - now)}
end
local ttl = math.ceil((newtat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', newtat), 'PX', ttl)
return {1, math.floor((now - allowat) / iv), 0, math.ceil(newtat - now)}
`)

// NewRedis returns a limiter that keeps its buckets in Redis through
// client, which may be a *redis.Client, *redis.ClusterClient or
// *redis.Ring. The caller owns client and closes it.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &Redis{client: client, prefix: prefix}
}

// Key returns the Redis key holding key's bucket.
func (r *Redis) Key(key string) string {
	return "{" + r.prefix + key + "}"
}

// Allow implements Limiter with one Redis round trip.
func (r *Redis) Allow(ctx context.Context, key string, rate float64, burst int) (Decision, error) {
	iv, err := checkLimit(rate, burst)
	if err != nil {
		return Decision{}, err
	}
	ivMicros := strconv.FormatFloat(float64(iv)/float64(time.Microsecond), 'f', -1, 64)
	res, err := gcraScript.Run(ctx, r.client, []string{r.Key(key)}, ivMicros, burst).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis decision: %w; check that redis is reachable (the limiter retries on the next request)", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis decision: script returned %d values, want 4; check that no other program writes keys under prefix %q", len(res), r.prefix)
	}
	return Decision{
		Allowed:    res[0] == 1,
		Limit:      burst,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Reset:      time.Duration(res[3]) * time.Microsecond,
	}, nil
}

// FailMode says what WithFallback decides when the wrapped limiter fails.
type FailMode int

const (
	// FailOpen admits requests while the limiter fails, favouring
	// availability over enforcement. It is the zero value.
	FailOpen FailMode = iota
	// FailClosed denies requests while the limiter fails, with a
	// RetryAfter of FailClosedRetryAfter.
	FailClosed
)

// FailClosedRetryAfter is the RetryAfter of a fail-closed decision.
const FailClosedRetryAfter = time.Second

// String returns "open" or "closed".
func (m FailMode) String() string {
	switch m {
	case FailOpen:
		return "open"
	case FailClosed:
		return "closed"
	}
	return "FailMode(" + strconv.Itoa(int(m)) + ")"
}

type fallback struct {
	primary Limiter
	mode    FailMode
	onError func(error)
}

// WithFallback returns a Limiter that answers with primary and, when
// primary returns an error, calls onError (if not nil; use it to count and
// log) and returns a decision chosen by mode instead of the error:
//
//   - FailOpen: Allowed, Limit burst, Remaining burst-1, as if the bucket
//     were full.
//   - FailClosed: denied, Remaining 0, RetryAfter and Reset of
//     FailClosedRetryAfter.
//
// Invalid limits (ErrInvalidLimit) and a done ctx are not outages: those
// errors are returned unchanged and onError is not called.
func WithFallback(primary Limiter, mode FailMode, onError func(error)) Limiter {
	return &fallback{primary: primary, mode: mode, onError: onError}
}

func (f *fallback) Allow(ctx context.Context, key string, rate float64, burst int) (Decision, error) {
	d, err := f.primary.Allow(ctx, key, rate, burst)
	if err == nil {
		return d, nil
	}
	if errors.Is(err, ErrInvalidLimit) {
		return d, err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return Decision{}, err
	}
	if f.onError != nil {
		f.onError(err)
	}
	if f.mode == FailClosed {
		return Decision{Limit: burst, RetryAfter: FailClosedRetryAfter, Reset: FailClosedRetryAfter}, nil
	}
	return Decision{Allowed: true, Limit: burst, Remaining: burst - 1}, nil
}
