package kv

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/internal/redistest"
)

func newTestRedis(t *testing.T) (*Redis, *redis.Client) {
	addr, _ := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return NewRedis(c, "test:"), c
}

func TestRedisStore(t *testing.T) {
	ctx := t.Context()
	s, c := newTestRedis(t)

	_, ok, err := s.Get(ctx, "a")
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, s.Set(ctx, "a", []byte("1"), 0))
	got, ok, err := s.Get(ctx, "a")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "1", string(got))
	assert.Equal(t, "1", c.Get(ctx, "test:a").Val(), "keys carry the prefix")
	assert.Equal(t, time.Duration(-1), c.PTTL(ctx, "test:a").Val(), "ttl 0 means no expiry")

	tests := []struct {
		name     string
		old, new string
		nilOld   bool
		exp      bool
		expValue string
	}{
		{name: "create refused when present", nilOld: true, new: "x", exp: false, expValue: "1"},
		{name: "swap refused on mismatch", old: "2", new: "x", exp: false, expValue: "1"},
		{name: "swap on match", old: "1", new: "2", exp: true, expValue: "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var old []byte
			if !tc.nilOld {
				old = []byte(tc.old)
			}
			stored, err := s.CompareAndSwap(ctx, "a", old, []byte(tc.new), 0)
			require.NoError(t, err)
			assert.Equal(t, tc.exp, stored)
			got, _, err := s.Get(ctx, "a")
			require.NoError(t, err)
			assert.Equal(t, tc.expValue, string(got))
		})
	}

	stored, err := s.CompareAndSwap(ctx, "b", nil, []byte("new"), time.Minute)
	require.NoError(t, err)
	assert.True(t, stored, "create when absent")
	pttl := c.PTTL(ctx, "test:b").Val()
	assert.Greater(t, pttl, 50*time.Second)
	assert.LessOrEqual(t, pttl, time.Minute)

	stored, err = s.CompareAndSwap(ctx, "b", []byte("new"), []byte("newer"), 30*time.Second)
	require.NoError(t, err)
	assert.True(t, stored)
	assert.LessOrEqual(t, c.PTTL(ctx, "test:b").Val(), 30*time.Second, "a swap sets the new ttl")

	require.NoError(t, s.Delete(ctx, "a"))
	require.NoError(t, s.Delete(ctx, "a"), "deleting an absent key is not an error")
	_, ok, err = s.Get(ctx, "a")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestRedisStoreDown(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedis(c, "")
	_, _, err := s.Get(t.Context(), "k")
	require.ErrorContains(t, err, `kv: get "k" from redis:`)
	_, err = s.CompareAndSwap(t.Context(), "k", []byte("a"), []byte("b"), 0)
	require.ErrorContains(t, err, `kv: compare and swap "k" in redis:`)
}
