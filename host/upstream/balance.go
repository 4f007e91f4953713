package upstream

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// maxRoundRobinCycle caps the length of the precomputed weighted round-robin
// cycle; larger weight sums are scaled down to fit.
const maxRoundRobinCycle = 4096

// roundRobin is smooth weighted round robin (nginx's algorithm) precomputed
// into one cycle of target indices and walked with an atomic counter, so
// picking takes no lock.
type roundRobin struct {
	cycle []int32
	next  atomic.Uint64
}

func newRoundRobin(weights []int) *roundRobin {
	w := scaleWeights(weights, maxRoundRobinCycle)
	total := 0
	for _, x := range w {
		total += x
	}
	cycle := make([]int32, 0, total)
	current := make([]int, len(w))
	for range total {
		best := 0
		for i := range w {
			current[i] += w[i]
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		cycle = append(cycle, int32(best))
	}
	return &roundRobin{cycle: cycle}
}

// pick walks the cycle from a fresh counter value for each unusable target,
// so their share spreads over the others, then falls back to a linear scan.
func (b *roundRobin) pick(p *Pool, st *pickState) int {
	n := uint64(len(b.cycle))
	tries := min(n, uint64(len(p.targets)))
	var i int
	for range tries {
		i = int(b.cycle[(b.next.Add(1)-1)%n])
		if p.usable(i, st) {
			return i
		}
	}
	return scanFrom(p, st, i)
}

// scanFrom returns the first usable target after start, in index order.
func scanFrom(p *Pool, st *pickState, start int) int {
	n := len(p.targets)
	for j := 1; j <= n; j++ {
		if i := (start + j) % n; p.usable(i, st) {
			return i
		}
	}
	return -1
}

// scaleWeights divides weights by their greatest common divisor and, if their
// sum still exceeds limit, scales them down proportionally (each stays >= 1).
func scaleWeights(weights []int, limit int) []int {
	g := 0
	for _, w := range weights {
		g = gcd(g, w)
	}
	out := make([]int, len(weights))
	sum := 0
	for i, w := range weights {
		out[i] = w / g
		sum += out[i]
	}
	if sum > limit {
		for i, w := range out {
			out[i] = max(1, w*limit/sum)
		}
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// leastRequests picks the usable target with the fewest requests in flight
// relative to its weight. The scan starts at a rotating offset, so ties go
// round robin.
type leastRequests struct {
	next atomic.Uint64
}

func (b *leastRequests) pick(p *Pool, st *pickState) int {
	n := len(p.targets)
	start := int((b.next.Add(1) - 1) % uint64(n))
	best := -1
	var bestLoad, bestWeight int64
	for j := range n {
		i := (start + j) % n
		if !p.usable(i, st) {
			continue
		}
		t := p.targets[i]
		load, weight := t.inFlight.Load(), int64(t.weight)
		// load/weight < bestLoad/bestWeight, without division.
		if best < 0 || load*bestWeight < bestLoad*weight {
			best, bestLoad, bestWeight = i, load, weight
		}
	}
	return best
}

// rendezvous is highest-random-weight (HRW) hashing: each target scores
// hash(key, target) and the best usable score wins, so removing a target moves
// only the keys it held. Scores depend on the target URL, not its position.
// Weighted pools use the logarithmic method (score = weight / -ln(u)).
type rendezvous struct {
	seeds    []uint64
	weights  []float64 // nil when all weights are equal
	fallback *roundRobin
}

func newRendezvous(targets []*Target, weights []int) *rendezvous {
	r := &rendezvous{seeds: make([]uint64, len(targets)), fallback: newRoundRobin(weights)}
	for i, t := range targets {
		r.seeds[i] = mix64(fnv64(t.raw))
	}
	for _, w := range weights {
		if w != weights[0] {
			r.weights = make([]float64, len(weights))
			for i, w := range weights {
				r.weights[i] = float64(w)
			}
			break
		}
	}
	return r
}

// pick uses round robin when key is empty.
func (r *rendezvous) pick(p *Pool, key string, st *pickState) int {
	if key == "" {
		return r.fallback.pick(p, st)
	}
	kh := fnv64(key)
	best := -1
	var bestScore uint64
	var bestWeighted float64
	for i, seed := range r.seeds {
		if !p.usable(i, st) {
			continue
		}
		h := mix64(kh ^ seed)
		if r.weights == nil {
			if best < 0 || h > bestScore {
				best, bestScore = i, h
			}
			continue
		}
		// u in (0, 1): the top 53 bits, offset by half a step.
		u := (float64(h>>11) + 0.5) / (1 << 53)
		// -ln(u) >= 1-u, so w/(1-u) bounds the score: skip the logarithm
		// when even the bound cannot win.
		w := r.weights[i]
		if best >= 0 && w <= bestWeighted*(1-u) {
			continue
		}
		s := w / -math.Log(u)
		if best < 0 || s > bestWeighted {
			best, bestWeighted = i, s
		}
	}
	return best
}

// fnv64 is 64-bit FNV-1a: stable across processes, so every gateway instance
// sends a key to the same target.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finalizer, which spreads FNV's weak low bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// weightedRandom picks a target with probability proportional to its weight.
type weightedRandom struct {
	cumulative []uint64 // cumulative[i] = sum of weights[0..i]
}

func newWeightedRandom(weights []int) *weightedRandom {
	r := &weightedRandom{cumulative: make([]uint64, len(weights))}
	var sum uint64
	for i, w := range weights {
		sum += uint64(w)
		r.cumulative[i] = sum
	}
	return r
}

// pick draws up to three times, then scans on from the last draw.
func (r *weightedRandom) pick(p *Pool, st *pickState) int {
	total := r.cumulative[len(r.cumulative)-1]
	i := 0
	for range 3 {
		x, _ := bits.Mul64(p.rnd(), total) // uniform in [0, total)
		lo, hi := 0, len(r.cumulative)-1
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if r.cumulative[mid] > x {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		i = lo
		if p.usable(i, st) {
			return i
		}
	}
	return scanFrom(p, st, i)
}
