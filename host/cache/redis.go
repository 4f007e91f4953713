package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the default RedisOptions.Prefix.
const DefaultRedisPrefix = "cache:"

// scanCount is the COUNT hint of the SCAN calls of DeletePrefix.
const scanCount = 1000

// RedisOptions configures NewRedis. The zero value is usable.
type RedisOptions struct {
	// Prefix starts every Redis key of the store. Default
	// DefaultRedisPrefix.
	Prefix string
	// Now is the clock used for StoredAt and TTLs. Default time.Now.
	Now func() time.Time
	// MaxEntryBytes refuses larger encoded entries with ErrTooLarge; 0
	// means 8 MiB. Redis strings can hold 512 MiB, but large values stall
	// the single-threaded server.
	MaxEntryBytes int
}

// Redis is a Store in Redis shared by every gateway instance using the same
// Redis and Prefix. Entries are stored as one binary-safe string (see
// encode) with a PX TTL, so Redis itself drops expired entries.
type Redis struct {
	client   redis.UniversalClient
	prefix   string
	now      func() time.Time
	maxBytes int
}

// Interface guard.
var _ Store = (*Redis)(nil)

// NewRedis returns a store that keeps entries in Redis through client. The
// caller owns client and closes it.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{client: client, prefix: opts.Prefix, now: opts.Now, maxBytes: opts.MaxEntryBytes}
	if r.prefix == "" {
		r.prefix = DefaultRedisPrefix
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.maxBytes <= 0 {
		r.maxBytes = 8 << 20
	}
	return r
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) (*Entry, bool, error) {
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache: redis get %q: %w; check that redis is reachable", key, err)
	}
	e, err := decode(b)
	if err != nil {
		return nil, false, fmt.Errorf("cache: redis get %q: %w; delete the key or check that no other program writes under prefix %q", key, err, r.prefix)
	}
	if !e.Fresh(r.now()) {
		return nil, false, nil
	}
	return e, true, nil
}

// Set implements Store. An entry that is already stale is not stored.
func (r *Redis) Set(ctx context.Context, key string, e *Entry) error {
	e, err := checkEntry(key, e, r.now)
	if err != nil {
		return err
	}
	ttl := e.ExpiresAt().Sub(r.now())
	if ttl < time.Millisecond {
		return nil
	}
	b := encode(e)
	if len(b) > r.maxBytes {
		return fmt.Errorf("cache: set %q: %d bytes: %w; the redis store accepts %d bytes per entry, raise MaxEntryBytes or lower the route's max cached body", key, len(b), ErrTooLarge, r.maxBytes)
	}
	if err := r.client.Set(ctx, r.prefix+key, b, ttl).Err(); err != nil {
		return fmt.Errorf("cache: redis set %q: %w; check that redis is reachable", key, err)
	}
	return nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("cache: redis delete %q: %w; check that redis is reachable", key, err)
	}
	return nil
}

// DeletePrefix implements Store with SCAN MATCH and UNLINK, never KEYS, so
// Redis keeps serving while a large cache is invalidated. On a Redis
// Cluster every master is scanned. Entries written during the scan may
// survive it.
func (r *Redis) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	pattern := globEscape(r.prefix+prefix) + "*"
	var total atomic.Int64
	scan := func(ctx context.Context, c redis.UniversalClient) (int, error) {
		n := 0
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
			if err != nil {
				return n, err
			}
			if len(keys) > 0 {
				d, err := c.Unlink(ctx, keys...).Result()
				if err != nil {
					return n, err
				}
				n += int(d)
			}
			if next == 0 {
				return n, nil
			}
			cursor = next
		}
	}
	var err error
	if cc, ok := r.client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := scan(ctx, c)
			total.Add(int64(n))
			return err
		})
	} else {
		var n int
		n, err = scan(ctx, r.client)
		total.Add(int64(n))
	}
	if err != nil {
		return int(total.Load()), fmt.Errorf("cache: redis delete prefix %q: %w; check that redis is reachable and retry (deleting is idempotent)", prefix, err)
	}
	return int(total.Load()), nil
}

// globEscape escapes the glob metacharacters of SCAN MATCH.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\^-`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// encodingVersion is the first byte of an encoded entry.
const encodingVersion = 1

// encode serialises e as:
//
//	version  byte (1)
//	status   uvarint
//	storedAt varint, unix nanoseconds
//	ttl      varint, nanoseconds
//	nheaders uvarint, then per header (sorted by name):
//	    name   uvarint length + bytes
//	    nvals  uvarint, then per value: uvarint length + bytes
//	body     the remaining bytes
//
// Every field is length-prefixed, so any bytes round-trip.
func encode(e *Entry) []byte {
	size := 1 + 3*binary.MaxVarintLen64 + binary.MaxVarintLen64 + len(e.Body)
	names := make([]string, 0, len(e.Header))
	for k, vs := range e.Header {
		names = append(names, k)
		size += 2*binary.MaxVarintLen64 + len(k)
		for _, v := range vs {
			size += binary.MaxVarintLen64 + len(v)
		}
	}
	slices.Sort(names)
	b := make([]byte, 0, size)
	b = append(b, encodingVersion)
	b = binary.AppendUvarint(b, uint64(e.Status))
	b = binary.AppendVarint(b, e.StoredAt.UnixNano())
	b = binary.AppendVarint(b, int64(e.TTL))
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, k := range names {
		b = appendString(b, k)
		vs := e.Header[k]
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return append(b, e.Body...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errCorrupt is wrapped by decode errors.
var errCorrupt = errors.New("corrupt cache entry")

// decoder reads the fields written by encode.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint", errCorrupt)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint", errCorrupt)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: string of %d bytes with %d left", errCorrupt, n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a count of items that each take at least one byte, so a
// corrupt count cannot trigger a huge allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: %d items with %d bytes left", errCorrupt, n, len(d.b))
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// decode parses the output of encode. The returned entry does not alias b.
func decode(b []byte) (*Entry, error) {
	if len(b) == 0 || b[0] != encodingVersion {
		return nil, fmt.Errorf("%w: unknown encoding version", errCorrupt)
	}
	d := &decoder{b: b[1:]}
	e := &Entry{}
	e.Status = int(d.uvarint())
	e.StoredAt = time.Unix(0, d.varint())
	e.TTL = time.Duration(d.varint())
	nh := d.count()
	if nh > 0 {
		e.Header = make(http.Header, nh)
	}
	for range nh {
		k := d.string()
		nv := d.count()
		vs := make([]string, nv)
		for i := range vs {
			vs[i] = d.string()
		}
		if d.err != nil {
			break
		}
		e.Header[k] = vs
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) > 0 {
		e.Body = slices.Clone(d.b)
	}
	return e, nil
}
