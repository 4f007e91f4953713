package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramBucketPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prev := -1
	for v := uint64(0); v < 100_000; v++ { // indexes are monotonic
		i := histIndex(v)
		require.GreaterOrEqual(t, i, prev, "value %d", v)
		prev = i
	}
	for range 100_000 {
		v := rng.Uint64N(histMaxValue)
		i := histIndex(v)
		require.Less(t, i, histBuckets)
		got := histValue(i)
		diff := float64(got) - float64(v)
		if diff < 0 {
			diff = -diff
		}
		require.LessOrEqual(t, diff, float64(v)/histSubCount+1, "value %d bucket %d represented as %d", v, i, got)
	}
	assert.Equal(t, histBuckets-1, histIndex(^uint64(0)), "values beyond the range are clamped into the last bucket")
}

func TestHistogramPercentiles(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		exp  time.Duration
	}{
		{name: "empty", in: nil, q: 50, exp: 0},
		{name: "single value", in: []time.Duration{3 * time.Millisecond}, q: 99, exp: 3 * time.Millisecond},
		{name: "exact small values", in: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, q: 50, exp: 5},
		{name: "p90 of ten", in: []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, q: 90, exp: 9},
		{name: "p100 is the max", in: []time.Duration{10, 20, 7 * time.Second}, q: 100, exp: 7 * time.Second},
		{name: "negative counts as zero", in: []time.Duration{-5}, q: 50, exp: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			for _, d := range tc.in {
				h.Record(d)
			}
			assert.Equal(t, tc.exp, h.Percentile(tc.q))
		})
	}
}

func TestHistogramPercentilesMatchSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h := NewHistogram()
	var samples []time.Duration
	for range 50_000 {
		// Log-normal-ish latencies from 50µs to about 50ms.
		d := time.Duration(50_000 * (1 + rng.ExpFloat64()*rng.ExpFloat64()*30))
		samples = append(samples, d)
		h.Record(d)
	}
	slices.Sort(samples)
	for _, q := range []float64{1, 50, 90, 99, 99.9} {
		exact := samples[int(math.Ceil(q/100*float64(len(samples))))-1]
		got := h.Percentile(q)
		assert.InEpsilon(t, float64(exact), float64(got), 0.01, "p%v", q)
	}
	assert.Equal(t, samples[0], h.Min())
	assert.Equal(t, samples[len(samples)-1], h.Max())
	assert.Equal(t, uint64(len(samples)), h.Count())
}

func TestHistogramMerge(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(b)
	a.Merge(NewHistogram()) // merging an empty one changes nothing
	assert.Equal(t, all, a)
	assert.Equal(t, time.Duration(0), a.Min())
	assert.Equal(t, 999*time.Microsecond, a.Max())
	assert.Equal(t, 499500*time.Nanosecond, a.Mean())
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	h := NewHistogram()
	d := time.Duration(0)
	allocs := testing.AllocsPerRun(1000, func() {
		d += 1234
		h.Record(d)
	})
	assert.Zero(t, allocs)
}
