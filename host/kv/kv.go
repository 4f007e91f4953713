package kv

import (
	"context"
	"time"
)

// Store is a key/value store with per-key TTL. A ttl of 0 means no expiry.
// Implementations are safe for concurrent use.
type Store interface {
	// Get returns the value of key and whether it exists.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores val under key.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// CompareAndSwap stores new under key if the current value equals old.
	// A nil old means "only if key is absent". It reports whether it stored.
	CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
