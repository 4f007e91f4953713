package main

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, in the style of HdrHistogram: values below
// 2^(histSubBits+1) nanoseconds get one bucket each, and every higher power of
// two is split into 2^histSubBits equal buckets, so a recorded value is known to
// within 1/2^histSubBits (0.8%) of itself. Values are clamped to histMaxValue.
const (
	histSubBits  = 7
	histSubCount = 1 << histSubBits  // buckets per power of two
	histLinear   = histSubCount << 1 // values below this have exact buckets
	histMaxBits  = 40                // 2^40 ns is about 18 minutes
	histMaxValue = uint64(1)<<histMaxBits - 1
	histBuckets  = histLinear + (histMaxBits-histSubBits-1)*histSubCount
)

// Histogram records latencies in fixed buckets. Record never allocates. A
// Histogram is not safe for concurrent use: give each worker its own and Merge
// them afterwards.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	sum    uint64
	min    uint64
	max    uint64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{min: math.MaxUint64}
}

// histIndex returns the bucket of a value (in nanoseconds).
func histIndex(v uint64) int {
	if v < histLinear {
		return int(v)
	}
	if v > histMaxValue {
		v = histMaxValue
	}
	shift := bits.Len64(v) - histSubBits - 1 // >= 1
	m := v >> uint(shift)                    // in [histSubCount, 2*histSubCount)
	return histLinear + (shift-1)*histSubCount + int(m-histSubCount)
}

// histValue returns a representative value of a bucket: the middle of its range.
func histValue(i int) uint64 {
	if i < histLinear {
		return uint64(i)
	}
	shift := (i-histLinear)/histSubCount + 1
	m := uint64((i-histLinear)%histSubCount + histSubCount)
	lo := m << uint(shift)
	return lo + (uint64(1)<<uint(shift))/2
}

// Record adds one latency. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[histIndex(v)]++
	h.total++
	h.sum += v
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest recorded value, or 0 when the histogram is empty.
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max returns the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the average recorded value, or 0 when the histogram is empty.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}

// Percentile returns the value below or at which q percent (0 < q <= 100) of the
// recorded values fall, to within the bucket precision and never outside
// [Min, Max]. It returns 0 when the histogram is empty.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q / 100 * float64(h.total)))
	rank = max(rank, 1)
	if rank >= h.total {
		return time.Duration(h.max)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := histValue(i)
			v = max(v, h.min)
			v = min(v, h.max)
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
