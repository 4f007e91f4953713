package wasm

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Invocations, their duration and how many run now are counted on every
// call. Counted in shared prometheus metrics, every call on every core
// updates the same few cache lines (a histogram's count, sum and bucket, a
// counter, a gauge twice), and under load those atomics cost more than the
// rest of the host's work around a call. So each function counts in shards,
// one per instance slot, that only the goroutine holding the instance
// writes, and fnCollector adds the shards up when /metrics is scraped.

// fnDurationBuckets are gateway_function_duration_seconds' upper bounds.
var fnDurationBuckets = [...]float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// fnDurationBounds are fnDurationBuckets as durations.
var fnDurationBounds = func() []time.Duration {
	d := make([]time.Duration, len(fnDurationBuckets))
	for i, b := range fnDurationBuckets {
		d[i] = time.Duration(math.Round(b * float64(time.Second)))
	}
	return d
}()

// callShard counts the calls of the instances assigned to it. Its size is a
// multiple of 64 bytes, so allocated on its own it shares no cache line.
// Invocations running now are those started and not yet timed: the
// difference of invocations and the histogram's count, so no counter of its
// own.
type callShard struct {
	invocations atomic.Uint64
	sumNanos    atomic.Uint64
	counts      [len(fnDurationBuckets) + 1]atomic.Uint64 // the last is +Inf
	_           [64 - (2+len(fnDurationBuckets)+1)*8%64]byte
}

// start counts an invocation that starts now.
func (s *callShard) start() { s.invocations.Add(1) }

// end counts the end of an invocation that ran d.
func (s *callShard) end(d time.Duration) {
	i := 0
	for i < len(fnDurationBounds) && d > fnDurationBounds[i] {
		i++
	}
	s.counts[i].Add(1)
	s.sumNanos.Add(uint64(max(d, 0)))
}

// fnCalls are the shards of every function of one name; they outlive config
// reloads, so the counters never go back.
type fnCalls struct {
	shards []*callShard
	next   atomic.Uint32

	mu  sync.Mutex
	fns map[*Function]struct{} // loaded and not closed, for their instance counts
}

// track adds f to the functions whose instances are counted.
func (c *fnCalls) track(f *Function) {
	c.mu.Lock()
	c.fns[f] = struct{}{}
	c.mu.Unlock()
}

// untrack removes a closed f.
func (c *fnCalls) untrack(f *Function) {
	c.mu.Lock()
	delete(c.fns, f)
	c.mu.Unlock()
}

// live is the number of live instances of the tracked functions.
func (c *fnCalls) live() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for f := range c.fns {
		n += f.Live()
	}
	return n
}

// shard returns the shard for a new instance: shards go round, so instances
// running at the same time (at most GOMAXPROCS of them) rarely share one.
func (c *fnCalls) shard() *callShard {
	return c.shards[int(c.next.Add(1)-1)%len(c.shards)]
}

// fnCollector exports the call shards of a Host's functions as
// gateway_function_invocations_total, gateway_function_duration_seconds and
// gateway_function_concurrent_executions, and their live instances as
// gateway_function_instances.
type fnCollector struct {
	invocations, duration, concurrent, instances *prometheus.Desc

	mu     sync.Mutex
	byName map[string]*fnCalls
}

func newFnCollector() *fnCollector {
	fn := []string{"function"}
	return &fnCollector{
		invocations: prometheus.NewDesc("gateway_function_invocations_total", "Function invocations started, by function.", fn, nil),
		duration:    prometheus.NewDesc("gateway_function_duration_seconds", "Function invocation time inside the module, by function.", fn, nil),
		concurrent:  prometheus.NewDesc("gateway_function_concurrent_executions", "Invocations running now, by function.", fn, nil),
		instances:   prometheus.NewDesc("gateway_function_instances", "Live instances, idle or running, by function: min_warm and up after cold starts, down again after idle_timeout.", fn, nil),
		byName:      make(map[string]*fnCalls),
	}
}

// calls returns the shards of the function name, creating them (shards of
// them) on first use.
func (c *fnCollector) calls(name string, shards int) *fnCalls {
	c.mu.Lock()
	defer c.mu.Unlock()
	fc, ok := c.byName[name]
	if !ok {
		fc = &fnCalls{shards: make([]*callShard, max(shards, 1)), fns: make(map[*Function]struct{})}
		for i := range fc.shards {
			fc.shards[i] = new(callShard)
		}
		c.byName[name] = fc
	}
	return fc
}

// Describe implements prometheus.Collector.
func (c *fnCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.invocations
	ch <- c.duration
	ch <- c.concurrent
	ch <- c.instances
}

// Collect implements prometheus.Collector: each series adds up its
// function's shards. A scrape during calls may see a call's invocation
// counted before its duration; each series only ever grows (but the gauge).
func (c *fnCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	names := make([]string, 0, len(c.byName))
	for name := range c.byName {
		names = append(names, name)
	}
	calls := make([]*fnCalls, len(names))
	sort.Strings(names)
	for i, name := range names {
		calls[i] = c.byName[name]
	}
	c.mu.Unlock()
	for i, fc := range calls {
		var invocations, count, sum uint64
		var counts [len(fnDurationBuckets) + 1]uint64
		for _, s := range fc.shards {
			// Durations before invocations: a call timed by now was
			// counted as started before, so running is never negative.
			sum += s.sumNanos.Load()
			for j := range s.counts {
				counts[j] += s.counts[j].Load()
			}
			invocations += s.invocations.Load()
		}
		buckets := make(map[float64]uint64, len(fnDurationBuckets))
		for j, b := range fnDurationBuckets {
			count += counts[j]
			buckets[b] = count
		}
		count += counts[len(fnDurationBuckets)]
		running := invocations - min(count, invocations)
		ch <- prometheus.MustNewConstMetric(c.invocations, prometheus.CounterValue, float64(invocations), names[i])
		ch <- prometheus.MustNewConstHistogram(c.duration, count, float64(sum)/1e9, buckets, names[i])
		ch <- prometheus.MustNewConstMetric(c.concurrent, prometheus.GaugeValue, float64(running), names[i])
		ch <- prometheus.MustNewConstMetric(c.instances, prometheus.GaugeValue, float64(fc.live()), names[i])
	}
}
