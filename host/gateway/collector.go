package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/host/metrics"
)

var (
	descTargetHealthy = prometheus.NewDesc(metrics.Namespace+"_upstream_target_healthy",
		"1 when the upstream target takes traffic (healthy and not ejected), else 0.",
		[]string{"upstream", "target"}, nil)
	descTargetInFlight = prometheus.NewDesc(metrics.Namespace+"_upstream_target_in_flight",
		"Requests in flight to the upstream target.", []string{"upstream", "target"}, nil)
	descBreaker = prometheus.NewDesc(metrics.Namespace+"_circuit_breaker_state",
		"Circuit breaker state of the upstream target: 0 closed, 1 half-open, 2 open.",
		[]string{"upstream", "target"}, nil)
)

// upstreamCollector reports the current generation's upstream targets.
type upstreamCollector struct{ g *Gateway }

var _ prometheus.Collector = (*upstreamCollector)(nil)

func (c *upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTargetHealthy
	ch <- descTargetInFlight
	ch <- descBreaker
}

func (c *upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	gen := c.g.current()
	defer gen.release()
	for _, u := range gen.cfg.Upstreams {
		p := gen.pools[u.Name]
		if p == nil {
			continue
		}
		for _, t := range p.Snapshot() {
			healthy := 0.0
			if t.Healthy && !t.Ejected {
				healthy = 1
			}
			ch <- prometheus.MustNewConstMetric(descTargetHealthy, prometheus.GaugeValue, healthy, t.Upstream, t.Target)
			ch <- prometheus.MustNewConstMetric(descTargetInFlight, prometheus.GaugeValue, float64(t.InFlight), t.Upstream, t.Target)
			state := 0.0
			switch t.Breaker {
			case "half-open":
				state = 1
			case "open":
				state = 2
			}
			ch <- prometheus.MustNewConstMetric(descBreaker, prometheus.GaugeValue, state, t.Upstream, t.Target)
		}
	}
}
