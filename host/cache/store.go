package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Entry is one stored response.
type Entry struct {
	Status int
	Header http.Header
	Body   []byte
	// StoredAt is when the response was stored. Set fills it in when zero.
	StoredAt time.Time
	// TTL is how long after StoredAt the entry may be served. It must be
	// positive.
	TTL time.Duration
}

// ExpiresAt returns StoredAt+TTL, the first instant the entry is stale.
func (e *Entry) ExpiresAt() time.Time { return e.StoredAt.Add(e.TTL) }

// Fresh reports whether the entry may still be served at now.
func (e *Entry) Fresh(now time.Time) bool { return now.Before(e.ExpiresAt()) }

// Store keeps cached responses. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the fresh entry stored under key. ok is false on a miss,
	// including for an expired entry.
	Get(ctx context.Context, key string) (e *Entry, ok bool, err error)
	// Set stores e under key, replacing any previous entry, until
	// e.StoredAt+e.TTL.
	Set(ctx context.Context, key string, e *Entry) error
	// Delete removes key's entry, if any.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every entry whose key starts with prefix and
	// returns how many it removed. With keys from Key, RoutePrefix(path)
	// invalidates a path.
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// ErrTooLarge is returned (wrapped) by Set for an entry bigger than the
// store accepts. Callers normally count it and serve the response uncached.
var ErrTooLarge = errors.New("cache entry too large")

// ErrInvalidEntry is returned (wrapped) by Set for a nil entry or one
// without a positive TTL.
var ErrInvalidEntry = errors.New("invalid cache entry")

// checkEntry validates e for Set and returns it with StoredAt filled in
// (copying e only when StoredAt must be set).
func checkEntry(key string, e *Entry, now func() time.Time) (*Entry, error) {
	if e == nil {
		return nil, fmt.Errorf("cache: set %q: nil entry: %w; pass the response to store", key, ErrInvalidEntry)
	}
	if e.TTL <= 0 {
		return nil, fmt.Errorf("cache: set %q: ttl %s: %w; use a positive TTL (a response with no lifetime is not cacheable)", key, e.TTL, ErrInvalidEntry)
	}
	if e.StoredAt.IsZero() {
		c := *e
		c.StoredAt = now()
		e = &c
	}
	return e, nil
}

// headerSize counts the bytes of h's names and values.
func headerSize(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}
