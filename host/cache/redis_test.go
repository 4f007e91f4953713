package cache

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/internal/redistest"
)

func newRedisStore(t *testing.T, opts RedisOptions) (*Redis, *redis.Client) {
	t.Helper()
	addr, _ := redistest.Start(t)
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return NewRedis(c, opts), c
}

func TestRedisRoundTrip(t *testing.T) {
	body, err := os.ReadFile("testdata/binary.bin")
	require.NoError(t, err)
	storedAt := time.Now().Add(-time.Second).Round(0)
	tests := []struct {
		name string
		in   *Entry
	}{
		{"binary body and multi-value headers", &Entry{
			Status: 200,
			Header: http.Header{
				"Content-Type": {"image/gif"},
				"Set-Cookie":   {"a=1", "b=2\x00\r\n"},
				"X-Empty":      {},
				"X-Blank":      {""},
			},
			Body:     body,
			StoredAt: storedAt,
			TTL:      time.Hour,
		}},
		{"no header no body", &Entry{Status: 204, StoredAt: storedAt, TTL: time.Minute}},
		{"unusual status", &Entry{Status: 599, Header: http.Header{"A": {"b"}}, Body: []byte{0}, StoredAt: storedAt, TTL: time.Minute}},
	}
	s, client := newRedisStore(t, RedisOptions{Prefix: "c:"})
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, s.Set(ctx, tc.name, tc.in))
			got, ok, err := s.Get(ctx, tc.name)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, tc.in.Status, got.Status)
			assert.Equal(t, tc.in.Body, got.Body)
			assert.Equal(t, tc.in.TTL, got.TTL)
			assert.True(t, tc.in.StoredAt.Equal(got.StoredAt))
			if len(tc.in.Header) == 0 {
				assert.Empty(t, got.Header)
			} else {
				assert.Equal(t, tc.in.Header, got.Header)
			}
			// Redis expires the key with the entry.
			pttl, err := client.PTTL(ctx, "c:"+tc.name).Result()
			require.NoError(t, err)
			assert.Greater(t, pttl, time.Duration(0))
			assert.LessOrEqual(t, pttl, tc.in.ExpiresAt().Sub(time.Now().Add(-time.Second)))
		})
	}
}

func TestRedisMissAndExpiry(t *testing.T) {
	s, client := newRedisStore(t, RedisOptions{})
	ctx := context.Background()
	_, ok, err := s.Get(ctx, "none")
	require.NoError(t, err)
	assert.False(t, ok)

	// Already stale: not stored at all.
	require.NoError(t, s.Set(ctx, "stale", &Entry{Status: 200, StoredAt: time.Now().Add(-time.Hour), TTL: time.Minute}))
	n, err := client.Exists(ctx, DefaultRedisPrefix+"stale").Result()
	require.NoError(t, err)
	assert.Zero(t, n)

	// A short TTL: Redis drops the entry by itself.
	require.NoError(t, s.Set(ctx, "short", &Entry{Status: 200, Body: []byte("x"), TTL: 30 * time.Millisecond}))
	require.Eventually(t, func() bool {
		n, err := client.Exists(ctx, DefaultRedisPrefix+"short").Result()
		return err == nil && n == 0
	}, 5*time.Second, 5*time.Millisecond)
	_, ok, err = s.Get(ctx, "short")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestRedisStaleByClockIsMiss(t *testing.T) {
	// The entry's own lifetime is checked too, in case the Redis TTL and
	// the gateway clock disagree.
	now := time.Now()
	clock := func() time.Time { return now }
	s, _ := newRedisStore(t, RedisOptions{Now: clock})
	ctx := context.Background()
	require.NoError(t, s.Set(ctx, "k", &Entry{Status: 200, TTL: time.Minute}))
	now = now.Add(time.Minute)
	_, ok, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestRedisCorruptEntry(t *testing.T) {
	s, client := newRedisStore(t, RedisOptions{})
	ctx := context.Background()
	require.NoError(t, client.Set(ctx, DefaultRedisPrefix+"bad", "\x01\x80", 0).Err())
	_, _, err := s.Get(ctx, "bad")
	require.ErrorIs(t, err, errCorrupt)
	assert.EqualError(t, err, `cache: redis get "bad": corrupt cache entry: bad varint; delete the key or check that no other program writes under prefix "cache:"`)
}

func TestRedisTooLarge(t *testing.T) {
	s, _ := newRedisStore(t, RedisOptions{MaxEntryBytes: 100})
	err := s.Set(context.Background(), "k", &Entry{Status: 200, Body: make([]byte, 200), TTL: time.Minute})
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestRedisDeletePrefix(t *testing.T) {
	s, client := newRedisStore(t, RedisOptions{})
	ctx := context.Background()
	e := &Entry{Status: 200, Body: []byte("x"), TTL: time.Hour}
	// Enough keys to need several SCAN iterations.
	for i := range 2500 {
		require.NoError(t, s.Set(ctx, Key("GET", "/v1/items", map[string][]string{"page": {fmt.Sprint(i)}}, nil, nil, nil), e))
	}
	// Glob metacharacters in the prefix are matched literally.
	require.NoError(t, s.Set(ctx, Key("GET", "/v1/it*", nil, nil, nil, nil), e))
	require.NoError(t, s.Set(ctx, Key("GET", "/v1/items/7", nil, nil, nil, nil), e))
	require.NoError(t, s.Set(ctx, Key("GET", "/v2/items", nil, nil, nil, nil), e))
	// A key outside the store's prefix is never touched.
	require.NoError(t, client.Set(ctx, "/v1/items|foreign", "x", 0).Err())

	n, err := s.DeletePrefix(ctx, "/v1/it*")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = s.DeletePrefix(ctx, RoutePrefix("/v1/items"))
	require.NoError(t, err)
	assert.Equal(t, 2500, n)
	n, err = s.DeletePrefix(ctx, "/v1/")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	size, err := client.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(2), size, "/v2/items and the foreign key remain")
	require.NoError(t, s.Delete(ctx, Key("GET", "/v2/items", nil, nil, nil, nil)))
	size, err = client.DBSize(ctx).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), size)
}

func TestRedisErrorsSayWhatFailed(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedis(c, RedisOptions{})
	ctx := context.Background()
	_, _, err := s.Get(ctx, "k")
	assert.ErrorContains(t, err, `cache: redis get "k": `)
	err = s.Set(ctx, "k", &Entry{TTL: time.Minute})
	assert.ErrorContains(t, err, `cache: redis set "k": `)
	_, err = s.DeletePrefix(ctx, "p")
	assert.ErrorContains(t, err, `cache: redis delete prefix "p": `)
}

func TestDecodeRejectsCorruptInput(t *testing.T) {
	good := encode(&Entry{Status: 200, Header: http.Header{"A": {"bc"}}, Body: []byte("body"), StoredAt: time.Unix(1, 0), TTL: time.Second})
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"wrong version", append([]byte{9}, good[1:]...)},
		{"truncated header", good[:len(good)-len("body")-2]},
		{"huge header count", []byte{1, 200, 1, 2, 2, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.in)
			assert.ErrorIs(t, err, errCorrupt)
		})
	}
	e, err := decode(good)
	require.NoError(t, err)
	assert.Equal(t, []byte("body"), e.Body)
}
