package upstream

import (
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"
)

var _ error = (*Unavailable)(nil)

// Unavailable is the error of Pick when no target can take the request. The
// proxy answers 503 Service Unavailable, with a Retry-After header when
// RetryAfter is positive.
type Unavailable struct {
	// Upstream is the pool's name.
	Upstream string
	// RetryAfter is how long until an open breaker lets a probe through: whole
	// seconds, at least one. It is zero when Reason is ReasonNoHealthyTargets.
	RetryAfter time.Duration
	// Reason is ReasonCircuitOpen or ReasonNoHealthyTargets.
	Reason string
}

// The reasons of an Unavailable error.
const (
	// ReasonCircuitOpen means at least one healthy target exists but every
	// such target's breaker refused the request.
	ReasonCircuitOpen = "circuit open"
	// ReasonNoHealthyTargets means every target fails active health checks or
	// is ejected by passive health.
	ReasonNoHealthyTargets = "no healthy targets"
)

// Error says which upstream cannot take requests and why.
func (e *Unavailable) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("upstream %q unavailable: %s; retry after %s", e.Upstream, e.Reason, e.RetryAfter)
	}
	return fmt.Sprintf("upstream %q unavailable: %s", e.Upstream, e.Reason)
}

// pickState is the scratch space of one Pick. It lives on Pick's stack.
type pickState struct {
	exclude       []*Target
	allowExcluded bool
	// refused marks targets whose breaker refused this Pick.
	refused bitset
	// now and wall are read lazily: p.now() for ejection, time.Now() for breakers.
	now, wall int64
	// breakerWait is the shortest wait for a refusing breaker; -1 = none refused.
	breakerWait time.Duration
}

// Pick chooses a target for a request. key is the value returned by HashKey
// ("" when not hashing). exclude lists targets this request already tried:
// they are picked again only if no other target can take the request.
//
// Pick skips targets that fail active health checks, are ejected by passive
// health or whose breaker refuses the request. If none is left it returns an
// *Unavailable error; it never routes to a target it considers unhealthy.
//
// On success the caller must call the returned Done exactly once when the
// exchange ends. Pick does not allocate unless the pool has a circuit breaker.
func (p *Pool) Pick(key string, exclude []*Target) (*Target, Done, error) {
	st := pickState{exclude: exclude, breakerWait: -1}
	for pass := 0; pass < 2; pass++ {
		if pass == 1 {
			if len(exclude) == 0 {
				break
			}
			st.allowExcluded = true
		}
		// Each round either returns or refuses one more target, so n+1 rounds suffice.
		for range len(p.targets) + 1 {
			i := p.choose(key, &st)
			if i < 0 {
				break
			}
			t := p.targets[i]
			if t.breaker == nil {
				t.inFlight.Add(1)
				return t, t.done, nil
			}
			bdone, err := t.breaker.Allow()
			if err != nil {
				st.refused.set(i)
				st.noteBreaker(t.breakerWait(st.wallNow()))
				continue
			}
			t.inFlight.Add(1)
			cb := p.cfg.CircuitBreaker
			return t, func(status int, err error) {
				t.finish(status, err)
				bdone(breakerOutcome(cb, status, err))
			}, nil
		}
	}
	return nil, nil, p.unavailable(&st)
}

// choose asks the pool's balancer for a usable target; -1 when there is none.
func (p *Pool) choose(key string, st *pickState) int {
	switch {
	case p.rr != nil:
		return p.rr.pick(p, st)
	case p.lr != nil:
		return p.lr.pick(p, st)
	case p.hrw != nil:
		return p.hrw.pick(p, key, st)
	default:
		return p.rand.pick(p, st)
	}
}

// usable reports whether target i may take the request in this Pick.
func (p *Pool) usable(i int, st *pickState) bool {
	t := p.targets[i]
	if !t.healthy.Load() || st.refused.has(i) {
		return false
	}
	if !st.allowExcluded {
		for _, x := range st.exclude {
			if x == t {
				return false
			}
		}
	}
	if t.ejectedUntil.Load() != 0 && t.ejected(st.clock(p)) {
		return false
	}
	if t.openUntil.Load() != 0 {
		if w := t.breakerWait(st.wallNow()); w > 0 {
			st.noteBreaker(w)
			return false
		}
	}
	return true
}

// breakerWait is how long t's breaker stays open after wall; 0 when it is not open.
func (t *Target) breakerWait(wall int64) time.Duration {
	until := t.openUntil.Load()
	if until == 0 {
		if gobreaker.State(t.state.Load()) == gobreaker.StateOpen {
			return time.Second // opened but not yet mirrored: a race, say one second
		}
		return 0
	}
	return time.Duration(until - wall)
}

func (st *pickState) clock(p *Pool) int64 {
	if st.now == 0 {
		st.now = p.now().UnixNano()
	}
	return st.now
}

func (st *pickState) wallNow() int64 {
	if st.wall == 0 {
		st.wall = time.Now().UnixNano()
	}
	return st.wall
}

// noteBreaker records that a breaker refused the request and will let one
// through after w (w <= 0: a half-open breaker with all its probes out).
func (st *pickState) noteBreaker(w time.Duration) {
	if st.breakerWait < 0 || w < st.breakerWait {
		st.breakerWait = max(w, 0)
	}
}

// unavailable builds the error of a failed Pick.
func (p *Pool) unavailable(st *pickState) *Unavailable {
	if st.breakerWait < 0 {
		return &Unavailable{Upstream: p.cfg.Name, Reason: ReasonNoHealthyTargets}
	}
	wait := (st.breakerWait + time.Second - 1).Truncate(time.Second)
	return &Unavailable{Upstream: p.cfg.Name, Reason: ReasonCircuitOpen, RetryAfter: max(wait, time.Second)}
}

// bitset is a set of target indices that does not allocate for pools of up to
// 128 targets.
type bitset struct {
	small [2]uint64
	large []uint64
}

func (b *bitset) set(i int) {
	if i < 128 {
		b.small[i/64] |= 1 << (i % 64)
		return
	}
	i -= 128
	for len(b.large) <= i/64 {
		b.large = append(b.large, 0)
	}
	b.large[i/64] |= 1 << (i % 64)
}

func (b *bitset) has(i int) bool {
	if i < 128 {
		return b.small[i/64]&(1<<(i%64)) != 0
	}
	i -= 128
	return i/64 < len(b.large) && b.large[i/64]&(1<<(i%64)) != 0
}
