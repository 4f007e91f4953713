package upstream

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// weighted builds config targets http://tN:80 with the given weights.
func weighted(weights ...int) []*config.Target {
	out := make([]*config.Target, len(weights))
	for i, w := range weights {
		out[i] = &config.Target{URL: fmt.Sprintf("http://t%d:80", i), Weight: w}
	}
	return out
}

// pickIndex picks once, finishes the exchange with 200 and returns the target's index.
func pickIndex(t *testing.T, p *Pool, key string, exclude ...*Target) int {
	t.Helper()
	tg, done, err := p.Pick(key, exclude)
	require.NoError(t, err)
	done(200, nil)
	return tg.index
}

func TestRoundRobin(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		// exp is one full cycle of picks, as target indices.
		exp []int
	}{
		{name: "equal", weights: []int{1, 1, 1}, exp: []int{0, 1, 2}},
		{name: "zero weight means 1", weights: []int{0, 1}, exp: []int{0, 1}},
		{name: "common divisor", weights: []int{20, 10}, exp: []int{0, 1, 0}},
		// nginx's smooth weighted round robin spreads the heavy target out.
		{name: "smooth", weights: []int{5, 1, 1}, exp: []int{0, 0, 1, 0, 2, 0, 0}},
		{name: "two heavy", weights: []int{3, 2, 1}, exp: []int{0, 1, 0, 2, 1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, &config.Upstream{Targets: weighted(tc.weights...)}, Options{})
			for cycle := range 3 {
				got := make([]int, len(tc.exp))
				for i := range got {
					got[i] = pickIndex(t, p, "")
				}
				assert.Equal(t, tc.exp, got, "cycle %d", cycle)
			}
		})
	}
}

func TestRoundRobinSkipsUnhealthyEvenly(t *testing.T) {
	p := newPool(t, &config.Upstream{Targets: weighted(1, 1, 1)}, Options{})
	p.targets[0].healthy.Store(false)
	counts := make([]int, 3)
	for range 600 {
		counts[pickIndex(t, p, "")]++
	}
	assert.Equal(t, []int{0, 300, 300}, counts, "the unhealthy target's share is spread over the others")
}

func TestScaleWeights(t *testing.T) {
	tests := []struct {
		name  string
		in    []int
		limit int
		exp   []int
	}{
		{name: "gcd", in: []int{100, 50, 150}, limit: 10, exp: []int{2, 1, 3}},
		{name: "scaled, minimum 1", in: []int{1000, 1, 3000}, limit: 100, exp: []int{24, 1, 74}},
		{name: "fits", in: []int{3, 2}, limit: 10, exp: []int{3, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, scaleWeights(tc.in, tc.limit))
		})
	}
}

func TestLeastRequests(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		// busy[i] is how many picks of target i stay in flight.
		busy []int
		exp  int
	}{
		{name: "prefers idle", weights: []int{1, 1, 1}, busy: []int{2, 0, 1}, exp: 1},
		{name: "prefers least busy", weights: []int{1, 1, 1}, busy: []int{3, 2, 4}, exp: 1},
		{name: "weight scales load", weights: []int{1, 4}, busy: []int{1, 3}, exp: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, &config.Upstream{Targets: weighted(tc.weights...), Balance: config.BalanceLeastRequests}, Options{})
			for i, n := range tc.busy {
				p.targets[i].inFlight.Add(int64(n))
			}
			for range 10 {
				assert.Equal(t, tc.exp, pickIndex(t, p, ""))
			}
		})
	}
}

func TestLeastRequestsTracksDone(t *testing.T) {
	p := newPool(t, &config.Upstream{Targets: weighted(1, 1, 1), Balance: config.BalanceLeastRequests}, Options{})
	dones := make([]Done, 3)
	seen := map[int]bool{}
	for range 3 {
		tg, done, err := p.Pick("", nil)
		require.NoError(t, err)
		require.False(t, seen[tg.index], "target %d picked twice while the others were idle", tg.index)
		seen[tg.index] = true
		dones[tg.index] = done
	}
	dones[1](200, nil)
	assert.Equal(t, 1, pickIndex(t, p, ""), "the only idle target")
	assert.Equal(t, []int64{1, 0, 1}, []int64{p.targets[0].inFlight.Load(), p.targets[1].inFlight.Load(), p.targets[2].inFlight.Load()})
	// Ties go round robin.
	dones[0](200, nil)
	dones[2](200, nil)
	counts := make([]int, 3)
	for range 30 {
		counts[pickIndex(t, p, "")]++
	}
	assert.Equal(t, []int{10, 10, 10}, counts)
}

func TestHash(t *testing.T) {
	const keys = 3000
	tests := []struct {
		name    string
		weights []int
	}{
		{name: "equal weights", weights: []int{1, 1, 1, 1, 1}},
		{name: "weighted", weights: []int{1, 2, 3, 1, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := weighted(tc.weights...)
			p := newPool(t, &config.Upstream{Targets: all, Balance: config.BalanceHash}, Options{})
			owner := make([]string, keys)
			counts := map[string]int{}
			for k := range keys {
				key := fmt.Sprintf("client-%d", k)
				owner[k] = p.targets[pickIndex(t, p, key)].raw
				counts[owner[k]]++
				for range 3 {
					require.Equal(t, owner[k], p.targets[pickIndex(t, p, key)].raw, "key %q is sticky", key)
				}
			}
			total := 0
			for _, w := range tc.weights {
				total += w
			}
			for i, w := range tc.weights {
				exp := float64(keys*w) / float64(total)
				assert.InDelta(t, exp, counts[all[i].URL], exp*0.2, "share of %s", all[i].URL)
			}

			// Remove target 2: only its keys move.
			removed := all[2].URL
			rest := append(append([]*config.Target{}, all[:2]...), all[3:]...)
			q := newPool(t, &config.Upstream{Targets: rest, Balance: config.BalanceHash}, Options{})
			moved := map[string]int{}
			for k := range keys {
				now := q.targets[pickIndex(t, q, fmt.Sprintf("client-%d", k))].raw
				if owner[k] != removed {
					require.Equal(t, owner[k], now, "key %d moved though its target stayed", k)
					continue
				}
				moved[now]++
			}
			assert.Len(t, moved, len(rest), "the removed target's keys spread over all the others: %v", moved)

			// The same holds when the target is only unhealthy.
			p.targets[2].healthy.Store(false)
			for k := range keys {
				now := p.targets[pickIndex(t, p, fmt.Sprintf("client-%d", k))].raw
				if owner[k] != removed {
					require.Equal(t, owner[k], now, "key %d moved though its target is healthy", k)
				}
			}
		})
	}
}

func TestHashEmptyKeyIsRoundRobin(t *testing.T) {
	p := newPool(t, &config.Upstream{Targets: weighted(1, 1, 1), Balance: config.BalanceHash}, Options{})
	got := []int{pickIndex(t, p, ""), pickIndex(t, p, ""), pickIndex(t, p, ""), pickIndex(t, p, "")}
	assert.Equal(t, []int{0, 1, 2, 0}, got)
}

func TestRandomWeights(t *testing.T) {
	const n = 100_000
	tests := []struct {
		name    string
		weights []int
	}{
		{name: "equal", weights: []int{1, 1, 1, 1}},
		{name: "skewed", weights: []int{1, 2, 7}},
		{name: "one", weights: []int{5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, &config.Upstream{Targets: weighted(tc.weights...), Balance: config.BalanceRandom}, Options{})
			p.rnd = rand.New(rand.NewPCG(1, 2)).Uint64
			counts := make([]int, len(tc.weights))
			for range n {
				counts[pickIndex(t, p, "")]++
			}
			total := 0
			for _, w := range tc.weights {
				total += w
			}
			for i, w := range tc.weights {
				exp := float64(n*w) / float64(total)
				// Far beyond 5 standard deviations (sqrt(n*p*(1-p)) <= 158).
				assert.InDelta(t, exp, counts[i], 1000, "target %d: %v", i, counts)
			}
		})
	}
}

func TestExclude(t *testing.T) {
	balances := []config.Balance{config.BalanceRoundRobin, config.BalanceLeastRequests, config.BalanceHash, config.BalanceRandom}
	for _, b := range balances {
		t.Run(string(b), func(t *testing.T) {
			p := newPool(t, &config.Upstream{Targets: weighted(1, 1, 1), Balance: b}, Options{})
			t0, t1, t2 := p.targets[0], p.targets[1], p.targets[2]
			for k := range 50 {
				key := fmt.Sprintf("k%d", k)
				assert.NotEqual(t, 0, pickIndex(t, p, key, t0), "excluded target 0")
				assert.Equal(t, 2, pickIndex(t, p, key, t0, t1), "only target 2 is not excluded")
				// Every target tried: retrying one of them beats failing.
				_ = pickIndex(t, p, key, t0, t1, t2)
				// Excluded targets come back only when usable.
				t2.healthy.Store(false)
				assert.NotEqual(t, 2, pickIndex(t, p, key, t0, t1), "target 2 is unhealthy, so an excluded one is retried")
				t2.healthy.Store(true)
			}
		})
	}
}

func TestConcurrentPickDone(t *testing.T) {
	balances := []config.Balance{config.BalanceRoundRobin, config.BalanceLeastRequests, config.BalanceHash, config.BalanceRandom}
	for _, b := range balances {
		t.Run(string(b), func(t *testing.T) {
			p := newPool(t, &config.Upstream{
				Targets:        weighted(1, 2, 3),
				Balance:        b,
				PassiveHealth:  &config.PassiveHealth{ConsecutiveFailures: 1000, EjectDuration: time.Second},
				CircuitBreaker: &config.CircuitBreaker{ConsecutiveFailures: 1000, OpenTimeout: time.Second},
			}, Options{})
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 500 {
						tg, done, err := p.Pick(fmt.Sprintf("k%d", i), nil)
						if !assert.NoError(t, err) {
							return
						}
						_ = p.Snapshot()
						if (g+i)%7 == 0 {
							done(502, nil)
						} else {
							done(200, nil)
						}
						_ = tg
					}
				})
			}
			wg.Wait()
			for _, s := range p.Snapshot() {
				assert.Zero(t, s.InFlight, s.Target)
				assert.Equal(t, "closed", s.Breaker, s.Target)
			}
		})
	}
}
