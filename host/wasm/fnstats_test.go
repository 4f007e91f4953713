package wasm

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallShardBuckets: a duration lands in the first bucket whose upper
// bound it does not pass (bounds are inclusive, as in Prometheus), and the
// collector adds up every shard of a function.
func TestCallShardBuckets(t *testing.T) {
	tests := []struct {
		d      time.Duration
		bucket int // index in fnDurationBuckets; len means +Inf
	}{
		{0, 0},
		{-time.Millisecond, 0}, // a clock step back counts as 0
		{50 * time.Microsecond, 0},
		{50*time.Microsecond + 1, 1},
		{time.Millisecond, 4},
		{10 * time.Second, len(fnDurationBuckets) - 1},
		{11 * time.Second, len(fnDurationBuckets)},
	}
	for _, tc := range tests {
		s := new(callShard)
		s.start()
		s.end(tc.d)
		for i := range s.counts {
			want := uint64(0)
			if i == tc.bucket {
				want = 1
			}
			assert.Equal(t, want, s.counts[i].Load(), "%s: bucket %d", tc.d, i)
		}
	}

	c := newFnCollector()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(c))
	fc := c.calls("f", 3)
	for i, d := range []time.Duration{time.Microsecond, time.Millisecond, time.Second, time.Minute} {
		s := fc.shard()
		s.start()
		if i < 3 {
			s.end(d)
		}
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		switch {
		case m.GetHistogram() != nil:
			h := m.GetHistogram()
			got["count"], got["sum"] = float64(h.GetSampleCount()), h.GetSampleSum()
			got["le 0.001"] = float64(h.GetBucket()[4].GetCumulativeCount())
		default:
			got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	assert.Equal(t, map[string]float64{
		"gateway_function_invocations_total":     4,
		"gateway_function_concurrent_executions": 1,
		"gateway_function_instances":             0, // no function loaded under the name
		"count":                                  3,
		"sum":                                    1.001001,
		"le 0.001":                               2,
	}, got)
}
