package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Defaults for LocalOptions.
const (
	DefaultShards        = 64
	DefaultMaxKeys       = 1 << 20
	DefaultSweepInterval = time.Minute
)

// LocalOptions configures NewLocal. The zero value is usable.
type LocalOptions struct {
	// Shards is the number of independently locked bucket maps, rounded up
	// to a power of two. Default DefaultShards.
	Shards int
	// MaxKeys bounds the number of buckets kept in memory (spread evenly
	// over the shards). When a shard is full, buckets that have refilled
	// are dropped first; if none has, an arbitrary bucket is dropped, which
	// hands its key a full bucket. Default DefaultMaxKeys.
	MaxKeys int
	// SweepInterval is how often a background goroutine drops buckets that
	// have refilled completely (dropping those changes no decision, since a
	// missing bucket is a full one). Zero means DefaultSweepInterval; a
	// negative value disables the goroutine (call Sweep yourself).
	SweepInterval time.Duration
	// Now is the clock. Default time.Now. Tests inject a fake clock.
	Now func() time.Time
}

// Local is an in-memory Limiter. It is safe for concurrent use. Buckets are
// kept in shards selected by a hash of the key, each guarded by its own
// mutex, so unrelated keys rarely contend. Allow does not allocate for a key
// that already has a bucket.
type Local struct {
	// elapsed returns the clock's nanoseconds since the limiter was
	// created. With the default clock it reads only the monotonic clock
	// (time.Since), which is cheaper than time.Now.
	elapsed  func() int64
	seed     maphash.Seed
	mask     uint64
	perShard int
	shards   []localShard

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

type localShard struct {
	mu      sync.Mutex
	buckets map[string]*localBucket
	_       [48]byte // pad to 64 bytes: neighbouring shards on separate cache lines
}

type localBucket struct {
	// tat is the theoretical arrival time in ns on the elapsed clock; the
	// bucket is full again once the clock passes it.
	tat int64
}

// Interface guard.
var _ Limiter = (*Local)(nil)

// NewLocal returns an in-memory limiter. Call Close to stop its sweeper.
func NewLocal(opts LocalOptions) *Local {
	shards := opts.Shards
	if shards <= 0 {
		shards = DefaultShards
	}
	n := 1
	for n < shards {
		n <<= 1
	}
	maxKeys := opts.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	per := (maxKeys + n - 1) / n
	var elapsed func() int64
	if now := opts.Now; now != nil {
		epoch := now()
		elapsed = func() int64 { return int64(now().Sub(epoch)) }
	} else {
		epoch := time.Now()
		elapsed = func() int64 { return int64(time.Since(epoch)) }
	}
	l := &Local{
		elapsed:  elapsed,
		seed:     maphash.MakeSeed(),
		mask:     uint64(n - 1),
		perShard: per,
		shards:   make([]localShard, n),
		stop:     make(chan struct{}),
	}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*localBucket)
	}
	interval := opts.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	if interval > 0 {
		l.wg.Add(1)
		go l.sweepLoop(interval)
	}
	return l
}

// Allow implements Limiter. It never returns an error other than
// ErrInvalidLimit for an out-of-range rate or burst; ctx is unused.
func (l *Local) Allow(_ context.Context, key string, rate float64, burst int) (Decision, error) {
	iv, err := checkLimit(rate, burst)
	if err != nil {
		return Decision{}, err
	}
	now := l.elapsed()
	sh := &l.shards[maphash.String(l.seed, key)&l.mask]
	sh.mu.Lock()
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= l.perShard {
			l.makeRoomLocked(sh, now)
		}
		b = &localBucket{tat: now}
		sh.buckets[key] = b
	}
	d, tat := gcra(now, b.tat, iv, burst)
	b.tat = tat
	sh.mu.Unlock()
	return d, nil
}

// makeRoomLocked frees at least one slot in a full shard.
func (l *Local) makeRoomLocked(sh *localShard, now int64) {
	if sweepShardLocked(sh, now) > 0 {
		return
	}
	for k := range sh.buckets { // map order is random
		delete(sh.buckets, k)
		return
	}
}

// sweepShardLocked drops the buckets that are full at now.
func sweepShardLocked(sh *localShard, now int64) int {
	n := 0
	for k, b := range sh.buckets {
		if b.tat <= now {
			delete(sh.buckets, k)
			n++
		}
	}
	return n
}

// Sweep drops every bucket that has refilled completely and returns how
// many it dropped. Decisions do not change: a key without a bucket gets a
// full one. The background sweeper calls it every SweepInterval.
func (l *Local) Sweep() int {
	now := l.elapsed()
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += sweepShardLocked(sh, now)
		sh.mu.Unlock()
	}
	return n
}

// Len returns the number of buckets in memory.
func (l *Local) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}

func (l *Local) sweepLoop(interval time.Duration) {
	defer l.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.Sweep()
		}
	}
}

// Close stops the background sweeper and waits for it. The limiter still
// answers Allow afterwards. Close is idempotent.
func (l *Local) Close() error {
	l.stopOnce.Do(func() { close(l.stop) })
	l.wg.Wait()
	return nil
}
