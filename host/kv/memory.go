package kv

import (
	"bytes"
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const shardCount = 32

// Memory is an in-process Store: sharded maps, TTLs expired lazily on read and by
// a periodic sweep. Close stops the sweep.
type Memory struct {
	seed   maphash.Seed
	shards [shardCount]shard
	now    func() time.Time
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

type shard struct {
	mu sync.Mutex
	m  map[string]entry
}

type entry struct {
	val     []byte
	expires time.Time // zero = never
}

// Interface guard.
var _ Store = (*Memory)(nil)

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithClock replaces time.Now, for tests of expiry.
func WithClock(now func() time.Time) MemoryOption { return func(m *Memory) { m.now = now } }

// NewMemory returns an empty in-memory store sweeping expired keys every
// sweep interval (a minute by default when sweep <= 0). Call Close to stop it.
func NewMemory(opts ...MemoryOption) *Memory {
	return newMemory(time.Minute, opts...)
}

func newMemory(sweep time.Duration, opts ...MemoryOption) *Memory {
	m := &Memory{seed: maphash.MakeSeed(), now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range m.shards {
		m.shards[i].m = make(map[string]entry)
	}
	for _, o := range opts {
		o(m)
	}
	go m.sweepLoop(sweep)
	return m
}

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shardCount]
}

func (m *Memory) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return m.now().Add(ttl)
}

func (e entry) live(now time.Time) bool { return e.expires.IsZero() || now.Before(e.expires) }

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, false, nil
	}
	if !e.live(m.now()) {
		delete(s.m, key)
		return nil, false, nil
	}
	return bytes.Clone(e.val), true, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	s := m.shard(key)
	e := entry{val: bytes.Clone(val), expires: m.expiry(ttl)}
	s.mu.Lock()
	s.m[key] = e
	s.mu.Unlock()
	return nil
}

// CompareAndSwap implements Store.
func (m *Memory) CompareAndSwap(_ context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if ok && !e.live(m.now()) {
		delete(s.m, key)
		ok = false
	}
	switch {
	case old == nil && ok:
		return false, nil
	case old != nil && (!ok || !bytes.Equal(e.val, old)):
		return false, nil
	}
	s.m[key] = entry{val: bytes.Clone(new), expires: m.expiry(ttl)}
	return true, nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key string) error {
	s := m.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

// Len returns the number of stored keys, expired ones not yet swept included.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// Sweep deletes every expired key now.
func (m *Memory) Sweep() {
	now := m.now()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if !e.live(now) {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

func (m *Memory) sweepLoop(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.Sweep()
		}
	}
}

// Close stops the periodic sweep. It is safe to call more than once.
func (m *Memory) Close() error {
	m.once.Do(func() { close(m.stop) })
	<-m.done
	return nil
}
