package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// entryOverhead approximates the per-entry bookkeeping (list node, map slot,
// Entry struct) so that many tiny entries cannot exceed the budget
// unnoticed.
const entryOverhead = 128

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithClock sets the clock used for StoredAt and expiry. Default time.Now.
func WithClock(now func() time.Time) MemoryOption {
	return func(m *Memory) { m.now = now }
}

// Memory is an in-process Store: an LRU cache capped by bytes. An entry's
// size is its key, header names and values and body, plus a fixed
// overhead; storing past the cap evicts the least recently used entries.
// Expired entries are dropped when read and are the first evicted in
// practice since they are no longer used. Get, Set and Delete are O(1);
// DeletePrefix scans every key. It is safe for concurrent use.
type Memory struct {
	now      func() time.Time
	maxBytes int64

	mu    sync.Mutex
	size  int64
	items map[string]*node
	// root is the sentinel of a circular list: root.next is the most
	// recently used entry, root.prev the least.
	root node
}

type node struct {
	key        string
	entry      *Entry
	size       int64
	prev, next *node
}

// Interface guard.
var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store holding at most maxBytes.
func NewMemory(maxBytes int64, opts ...MemoryOption) *Memory {
	m := &Memory{now: time.Now, maxBytes: maxBytes, items: make(map[string]*node)}
	m.root.next, m.root.prev = &m.root, &m.root
	for _, o := range opts {
		o(m)
	}
	return m
}

// entrySize is the number of bytes an entry is charged.
func entrySize(key string, e *Entry) int64 {
	return int64(len(key)) + headerSize(e.Header) + int64(len(e.Body)) + entryOverhead
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) (*Entry, bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.items[key]
	if n == nil {
		return nil, false, nil
	}
	if !n.entry.Fresh(now) {
		m.removeLocked(n)
		return nil, false, nil
	}
	m.unlinkLocked(n)
	m.pushFrontLocked(n)
	return n.entry, true, nil
}

// Set implements Store. An entry bigger than the whole cache is refused
// with ErrTooLarge (and any older entry under key is removed).
func (m *Memory) Set(_ context.Context, key string, e *Entry) error {
	e, err := checkEntry(key, e, m.now)
	if err != nil {
		return err
	}
	size := entrySize(key, e)
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.items[key]; old != nil {
		m.removeLocked(old)
	}
	if size > m.maxBytes {
		return fmt.Errorf("cache: set %q: %d bytes: %w; the memory cache holds %d bytes, raise its size or lower the route's max cached body", key, size, ErrTooLarge, m.maxBytes)
	}
	for m.size+size > m.maxBytes {
		m.removeLocked(m.root.prev)
	}
	n := &node{key: key, entry: e, size: size}
	m.items[key] = n
	m.pushFrontLocked(n)
	m.size += size
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.items[key]; n != nil {
		m.removeLocked(n)
	}
	return nil
}

// DeletePrefix implements Store. It scans every key under the lock.
func (m *Memory) DeletePrefix(_ context.Context, prefix string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	count := 0
	for k, n := range m.items {
		if strings.HasPrefix(k, prefix) {
			m.removeLocked(n)
			count++
		}
	}
	return count, nil
}

// Len returns the number of entries, fresh or not yet noticed as expired.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// Size returns the bytes charged for the stored entries.
func (m *Memory) Size() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.size
}

func (m *Memory) pushFrontLocked(n *node) {
	n.prev, n.next = &m.root, m.root.next
	m.root.next.prev = n
	m.root.next = n
}

func (m *Memory) unlinkLocked(n *node) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (m *Memory) removeLocked(n *node) {
	m.unlinkLocked(n)
	delete(m.items, n.key)
	m.size -= n.size
}
