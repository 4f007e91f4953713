package kv

import (
	"fmt"
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

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestMemoryGetSetDelete(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	t.Cleanup(func() { require.NoError(t, m.Close()) })

	_, ok, err := m.Get(ctx, "a")
	require.NoError(t, err)
	assert.False(t, ok)

	val := []byte("1")
	require.NoError(t, m.Set(ctx, "a", val, 0))
	val[0] = 'x' // the store keeps its own copy
	got, ok, err := m.Get(ctx, "a")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "1", string(got))

	require.NoError(t, m.Delete(ctx, "a"))
	require.NoError(t, m.Delete(ctx, "absent"))
	_, ok, _ = m.Get(ctx, "a")
	assert.False(t, ok)
}

func TestMemoryCompareAndSwap(t *testing.T) {
	tests := []struct {
		name    string
		initial []byte // nil = absent
		old     []byte
		new     string
		exp     bool
		expVal  string
	}{
		{name: "create if absent", old: nil, new: "v", exp: true, expVal: "v"},
		{name: "create fails when present", initial: []byte("a"), old: nil, new: "v", exp: false, expVal: "a"},
		{name: "swap on match", initial: []byte("a"), old: []byte("a"), new: "b", exp: true, expVal: "b"},
		{name: "no swap on mismatch", initial: []byte("a"), old: []byte("z"), new: "b", exp: false, expVal: "a"},
		{name: "no swap when absent", old: []byte("a"), new: "b", exp: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			m := NewMemory()
			defer m.Close()
			if tc.initial != nil {
				require.NoError(t, m.Set(ctx, "k", tc.initial, 0))
			}
			ok, err := m.CompareAndSwap(ctx, "k", tc.old, []byte(tc.new), 0)
			require.NoError(t, err)
			assert.Equal(t, tc.exp, ok)
			got, found, _ := m.Get(ctx, "k")
			assert.Equal(t, tc.expVal != "", found)
			assert.Equal(t, tc.expVal, string(got))
		})
	}
}

func TestMemoryTTL(t *testing.T) {
	ctx := t.Context()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := NewMemory(WithClock(clk.now))
	defer m.Close()

	require.NoError(t, m.Set(ctx, "short", []byte("1"), time.Second))
	require.NoError(t, m.Set(ctx, "long", []byte("1"), time.Hour))
	require.NoError(t, m.Set(ctx, "forever", []byte("1"), 0))
	clk.add(2 * time.Second)

	_, ok, _ := m.Get(ctx, "short")
	assert.False(t, ok, "expired key is gone on read")
	require.NoError(t, m.Set(ctx, "short2", []byte("1"), time.Second))
	clk.add(2 * time.Second)
	assert.Equal(t, 3, m.Len(), "short2 expired but not yet swept")
	m.Sweep()
	assert.Equal(t, 2, m.Len())

	// An expired key counts as absent for create-only CAS.
	require.NoError(t, m.Set(ctx, "lock", []byte("a"), time.Second))
	clk.add(2 * time.Second)
	ok, err := m.CompareAndSwap(ctx, "lock", nil, []byte("b"), 0)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestMemoryPeriodicSweep(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newMemory(time.Millisecond, WithClock(clk.now))
	defer m.Close()
	require.NoError(t, m.Set(t.Context(), "k", []byte("1"), time.Second))
	clk.add(time.Hour)
	require.Eventually(t, func() bool { return m.Len() == 0 }, 5*time.Second, time.Millisecond)
}

func TestMemoryConcurrentCAS(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	defer m.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := m.CompareAndSwap(ctx, "lock", nil, []byte(fmt.Sprint(i)), 0)
			assert.NoError(t, err)
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "second Close is a no-op")
}
