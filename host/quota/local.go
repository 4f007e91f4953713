package quota

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// LocalOptions configures NewLocal. The zero value is usable.
type LocalOptions struct {
	// Now is the clock. Default time.Now. Tests inject a fake clock.
	Now func() time.Time
	// History is how long per-day usage is kept. Default DefaultHistory.
	History time.Duration
}

// Local is an in-memory Counter for a single gateway instance. It is safe
// for concurrent use.
type Local struct {
	now     func() time.Time
	history int64 // days
	seed    maphash.Seed
	shards  [localShards]localShard
}

const localShards = 32

type localShard struct {
	mu       sync.Mutex
	accounts map[string]*account
	_        [40]byte
}

// account holds one key's counters.
type account struct {
	periods [numPeriods]periodCount
	days    map[int64]int64 // unix day number → admitted requests
}

type periodCount struct {
	start int64 // unix seconds of the period start the counts belong to
	used  int64
	limit int64
}

// Interface guard.
var _ Counter = (*Local)(nil)

// NewLocal returns an in-memory counter.
func NewLocal(opts LocalOptions) *Local {
	l := &Local{now: opts.Now, seed: maphash.MakeSeed()}
	if l.now == nil {
		l.now = time.Now
	}
	h := opts.History
	if h <= 0 {
		h = DefaultHistory
	}
	l.history = int64((h + 24*time.Hour - 1) / (24 * time.Hour))
	for i := range l.shards {
		l.shards[i].accounts = make(map[string]*account)
	}
	return l
}

func (l *Local) shard(key string) *localShard {
	return &l.shards[maphash.String(l.seed, key)%localShards]
}

func unixDay(t time.Time) int64 { return t.Unix() / 86400 }

// Consume implements Counter.
func (l *Local) Consume(_ context.Context, key string, limit int64, period Period) (bool, Usage, error) {
	if err := checkConsume(limit, period); err != nil {
		return false, Usage{}, err
	}
	now := l.now()
	start := period.Start(now)
	u := Usage{Limit: limit, Period: string(period), ResetAt: period.End(now)}
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	a := sh.accounts[key]
	if a == nil {
		a = &account{}
		sh.accounts[key] = a
	}
	pc := &a.periods[period.index()]
	if pc.start != start.Unix() {
		*pc = periodCount{start: start.Unix()}
	}
	if pc.used >= limit {
		u.Used = pc.used
		return false, u, nil
	}
	pc.used++
	pc.limit = limit
	u.Used = pc.used
	today := unixDay(now)
	if a.days == nil {
		a.days = make(map[int64]int64)
	}
	if _, ok := a.days[today]; !ok {
		l.pruneDays(a, today)
	}
	a.days[today]++
	return true, u, nil
}

// pruneDays drops per-day counts older than the history.
func (l *Local) pruneDays(a *account, today int64) {
	for d := range a.days {
		if d <= today-l.history {
			delete(a.days, d)
		}
	}
}

// Get implements Counter.
func (l *Local) Get(_ context.Context, key string, period Period) (Usage, error) {
	if err := checkConsume(0, period); err != nil {
		return Usage{}, err
	}
	now := l.now()
	u := Usage{Period: string(period), ResetAt: period.End(now)}
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if a := sh.accounts[key]; a != nil {
		if pc := a.periods[period.index()]; pc.start == period.Start(now).Unix() {
			u.Used, u.Limit = pc.used, pc.limit
		}
	}
	return u, nil
}

// Usage implements Counter.
func (l *Local) Usage(_ context.Context, key string, from, to time.Time) ([]DayUsage, error) {
	ds, err := days(from, to)
	if err != nil {
		return nil, err
	}
	out := make([]DayUsage, len(ds))
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	a := sh.accounts[key]
	for i, d := range ds {
		out[i].Day = d
		if a != nil {
			out[i].Used = a.days[unixDay(d)]
		}
	}
	return out, nil
}

// Reset implements Counter.
func (l *Local) Reset(_ context.Context, key string) error {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if a := sh.accounts[key]; a != nil {
		a.periods = [numPeriods]periodCount{}
	}
	return nil
}

// Sweep forgets keys that have no count in any current period and no
// per-day usage within the history, and returns how many it dropped. Call
// it periodically (for example daily) to bound memory.
func (l *Local) Sweep() int {
	now := l.now()
	today := unixDay(now)
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, a := range sh.accounts {
			l.pruneDays(a, today)
			live := len(a.days) > 0
			for j, p := range allPeriods() {
				if a.periods[j].used > 0 && a.periods[j].start == p.Start(now).Unix() {
					live = true
				}
			}
			if !live {
				delete(sh.accounts, k)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}
