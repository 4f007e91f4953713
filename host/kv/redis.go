package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the default prefix of the keys NewRedis writes.
const DefaultRedisPrefix = "kv:"

// Redis is a Store in Redis, shared by every gateway instance using the
// same Redis and prefix: plugins on all instances see one key space. Each
// operation is one round trip; CompareAndSwap is atomic (SET NX, or a Lua
// script comparing the current value). Every operation touches one key, so
// it works on Redis Cluster. Redis errors are returned wrapped; the client
// reconnects by itself.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// Interface guard.
var _ Store = (*Redis)(nil)

// NewRedis returns a store keeping its keys in Redis under prefix
// ("" means DefaultRedisPrefix). The caller owns client and closes it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &Redis{c: client, prefix: prefix}
}

// casScript sets KEYS[1] to ARGV[2] (with a PX of ARGV[3] when > 0) if its
// value is ARGV[1]; it returns 1 when it stored.
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`)

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := r.c.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("kv: get %q from redis: %w", key, err)
	}
	return b, true, nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := r.c.Set(ctx, r.prefix+key, val, ttlArg(ttl)).Err(); err != nil {
		return fmt.Errorf("kv: set %q in redis: %w", key, err)
	}
	return nil
}

// CompareAndSwap implements Store.
func (r *Redis) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if old == nil {
		ok, err := r.c.SetNX(ctx, r.prefix+key, new, ttlArg(ttl)).Result()
		if err != nil {
			return false, fmt.Errorf("kv: create %q in redis: %w", key, err)
		}
		return ok, nil
	}
	n, err := casScript.Run(ctx, r.c, []string{r.prefix + key}, old, new, ttlArg(ttl).Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("kv: compare and swap %q in redis: %w", key, err)
	}
	return n == 1, nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.c.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("kv: delete %q from redis: %w", key, err)
	}
	return nil
}

// ttlArg maps the Store's TTL (0 = none) to go-redis's (0 = none), with
// sub-millisecond TTLs rounded up so that they still expire rather than
// being refused.
func ttlArg(ttl time.Duration) time.Duration {
	if ttl > 0 && ttl < time.Millisecond {
		return time.Millisecond
	}
	return max(ttl, 0)
}
