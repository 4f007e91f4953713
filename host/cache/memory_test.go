package cache

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sized returns an entry charged exactly n bytes under a 1-byte key.
func sized(n int) *Entry {
	return &Entry{Status: 200, Body: make([]byte, n-1-entryOverhead), TTL: time.Hour}
}

func TestMemoryLRUEvictionByBytes(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1000)
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, m.Set(ctx, k, sized(300)))
	}
	assert.Equal(t, int64(900), m.Size())

	// Reading a makes b the least recently used.
	_, ok, err := m.Get(ctx, "a")
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, m.Set(ctx, "d", sized(300)))
	assert.Equal(t, 3, m.Len())
	assert.Equal(t, int64(900), m.Size())
	for _, tc := range []struct {
		key string
		exp bool
	}{{"a", true}, {"b", false}, {"c", true}, {"d", true}} {
		_, ok, err := m.Get(ctx, tc.key)
		require.NoError(t, err)
		assert.Equal(t, tc.exp, ok, "key %s", tc.key)
	}

	// A big entry evicts as many as needed, oldest first (c, then a, then d:
	// the order of the reads above was a, c, d).
	require.NoError(t, m.Set(ctx, "e", sized(700)))
	assert.Equal(t, 2, m.Len())
	assert.Equal(t, int64(1000), m.Size())
	_, ok, _ = m.Get(ctx, "d")
	assert.True(t, ok)
	_, ok, _ = m.Get(ctx, "a")
	assert.False(t, ok)

	// Replacing an entry charges only the new size.
	require.NoError(t, m.Set(ctx, "e", sized(200)))
	assert.Equal(t, int64(500), m.Size())
}

func TestMemoryChargesHeadersAndKey(t *testing.T) {
	m := NewMemory(1 << 20)
	e := &Entry{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}, "X-A": {"1", "22"}}, Body: []byte("hello"), TTL: time.Minute}
	require.NoError(t, m.Set(context.Background(), "key", e))
	assert.Equal(t, int64(len("key")+len("Content-Type")+len("text/plain")+len("X-A")+3+len("hello")+entryOverhead), m.Size())
}

func TestMemoryTooLarge(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(500)
	require.NoError(t, m.Set(ctx, "k", sized(300)))
	err := m.Set(ctx, "k", sized(501))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.EqualError(t, err, `cache: set "k": 501 bytes: cache entry too large; the memory cache holds 500 bytes, raise its size or lower the route's max cached body`)
	// The stale smaller entry under the same key is gone too.
	_, ok, _ := m.Get(ctx, "k")
	assert.False(t, ok)
	assert.Zero(t, m.Size())
}

func TestMemoryTTL(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	m := NewMemory(1<<20, WithClock(clk.Now))
	e := &Entry{Status: 200, Body: []byte("x"), TTL: 10 * time.Second}
	require.NoError(t, m.Set(ctx, "k", e))
	assert.True(t, e.StoredAt.IsZero(), "Set must not modify the caller's entry")

	got, ok, err := m.Get(ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, clk.Now(), got.StoredAt, "Set fills in StoredAt")

	clk.Advance(10*time.Second - 1)
	_, ok, _ = m.Get(ctx, "k")
	assert.True(t, ok, "fresh until StoredAt+TTL")
	clk.Advance(1)
	_, ok, _ = m.Get(ctx, "k")
	assert.False(t, ok, "stale at StoredAt+TTL")
	assert.Zero(t, m.Len(), "a stale entry is dropped when read")

	// An explicit StoredAt in the past shortens the life.
	require.NoError(t, m.Set(ctx, "old", &Entry{StoredAt: clk.Now().Add(-time.Hour), TTL: time.Minute}))
	_, ok, _ = m.Get(ctx, "old")
	assert.False(t, ok)
}

func TestSetRejectsInvalidEntries(t *testing.T) {
	tests := []struct {
		name   string
		in     *Entry
		expErr string
	}{
		{"nil", nil, `cache: set "k": nil entry: invalid cache entry; pass the response to store`},
		{"no ttl", &Entry{Status: 200}, `cache: set "k": ttl 0s: invalid cache entry; use a positive TTL (a response with no lifetime is not cacheable)`},
		{"negative ttl", &Entry{Status: 200, TTL: -time.Second}, `cache: set "k": ttl -1s: invalid cache entry; use a positive TTL (a response with no lifetime is not cacheable)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := NewMemory(1000).Set(context.Background(), "k", tc.in)
			assert.EqualError(t, err, tc.expErr)
			assert.ErrorIs(t, err, ErrInvalidEntry)
		})
	}
}

func TestMemoryDelete(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1 << 20)
	keys := []string{
		Key("GET", "/v1/items", nil, nil, nil, nil),
		Key("GET", "/v1/items", map[string][]string{"page": {"2"}}, nil, nil, nil),
		Key("HEAD", "/v1/items", nil, nil, nil, nil),
		Key("GET", "/v1/items/7", nil, nil, nil, nil),
		Key("GET", "/v1/itemsx", nil, nil, nil, nil),
		Key("GET", "/v2/items", nil, nil, nil, nil),
	}
	for _, k := range keys {
		require.NoError(t, m.Set(ctx, k, sized(200)))
	}
	n, err := m.DeletePrefix(ctx, RoutePrefix("/v1/items"))
	require.NoError(t, err)
	assert.Equal(t, 3, n, "every method and query of /v1/items, not /v1/items/7 or /v1/itemsx")
	n, err = m.DeletePrefix(ctx, "/v1/")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, 1, m.Len())
	require.NoError(t, m.Delete(ctx, keys[5]))
	require.NoError(t, m.Delete(ctx, keys[5]))
	assert.Zero(t, m.Len())
	assert.Zero(t, m.Size())
}

func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(50 * 300)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprint(100 + (g*7+i)%100) // 3-byte keys: 302 bytes per entry
				switch i % 4 {
				case 0:
					assert.NoError(t, m.Set(ctx, k, sized(300)))
				case 3:
					assert.NoError(t, m.Delete(ctx, k))
				default:
					_, _, err := m.Get(ctx, k)
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, m.Size(), int64(50*300))
	assert.Equal(t, int64(m.Len())*302, m.Size())
}
