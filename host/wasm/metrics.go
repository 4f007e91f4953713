package wasm

import (
	"fmt"
	"regexp"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/abi"
)

// metricName is what a plugin metric name must match; the host adds no prefix.
var metricName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,127}$`)

// metricRegistry holds the plugin metric collectors of a Host: one vector per
// name, labelled by plugin, shared by every plugin defining that name.
type metricRegistry struct {
	reg    prometheus.Registerer
	mu     sync.Mutex
	byName map[string]*sharedMetric
}

type sharedMetric struct {
	kind      abi.MetricKind
	counter   *prometheus.CounterVec
	gauge     *prometheus.GaugeVec
	histogram *prometheus.HistogramVec
}

// pluginMetric is one metric bound to one plugin.
type pluginMetric struct {
	kind      abi.MetricKind
	counter   prometheus.Counter
	gauge     prometheus.Gauge
	histogram prometheus.Observer
}

func (m *pluginMetric) apply(fn string, v float64) error {
	switch {
	case fn == abi.FuncMetricAdd && m.kind == abi.MetricKindCounter:
		if v < 0 {
			return fmt.Errorf("counter cannot decrease (add %g)", v)
		}
		m.counter.Add(v)
	case fn == abi.FuncMetricAdd && m.kind == abi.MetricKindGauge:
		m.gauge.Add(v)
	case fn == abi.FuncMetricSet && m.kind == abi.MetricKindGauge:
		m.gauge.Set(v)
	case fn == abi.FuncMetricObserve && m.kind == abi.MetricKindHistogram:
		m.histogram.Observe(v)
	default:
		return fmt.Errorf("not applicable to a metric of kind %d; counters take %s, gauges %s or %s, histograms %s",
			m.kind, abi.FuncMetricAdd, abi.FuncMetricAdd, abi.FuncMetricSet, abi.FuncMetricObserve)
	}
	return nil
}

// defineMetric returns the id of the plugin's metric name, registering it on
// first use; a negative abi.Result on error.
func (p *Plugin) defineMetric(kind abi.MetricKind, name, help string) int32 {
	if kind > abi.MetricKindHistogram || !metricName.MatchString(name) {
		p.h.logger.Warn("plugin metric rejected: invalid kind or name; names match [a-zA-Z_][a-zA-Z0-9_]*",
			"plugin", p.name, "metric", name, "kind", kind)
		return abi.ResultInvalid
	}
	p.metricsMu.Lock()
	defer p.metricsMu.Unlock()
	if id, ok := p.metricIDs[name]; ok {
		if p.metrics[id].kind != kind {
			return abi.ResultInvalid
		}
		return id
	}
	m := &pluginMetric{kind: kind}
	if r := p.h.metrics; r != nil {
		sm, err := r.get(kind, name, help)
		if err != nil {
			p.h.logger.Warn("plugin metric rejected", "plugin", p.name, "metric", name, "error", err)
			return abi.ResultInvalid
		}
		switch kind {
		case abi.MetricKindCounter:
			m.counter = sm.counter.WithLabelValues(p.name)
		case abi.MetricKindGauge:
			m.gauge = sm.gauge.WithLabelValues(p.name)
		default:
			m.histogram = sm.histogram.WithLabelValues(p.name)
		}
	} else {
		// No registry: keep unregistered collectors so calls still work.
		m.counter = prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: "unregistered"})
		m.gauge = prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "unregistered"})
		m.histogram = prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: "unregistered"})
	}
	id := int32(len(p.metrics))
	p.metrics = append(p.metrics, m)
	p.metricIDs[name] = id
	return id
}

func (r *metricRegistry) get(kind abi.MetricKind, name, help string) (*sharedMetric, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sm, ok := r.byName[name]; ok {
		if sm.kind != kind {
			return nil, fmt.Errorf("metric %q is already defined with kind %d by another plugin; use another name", name, sm.kind)
		}
		return sm, nil
	}
	if help == "" {
		help = "Plugin metric " + name + "."
	}
	labels := []string{"plugin"}
	sm := &sharedMetric{kind: kind}
	var c prometheus.Collector
	switch kind {
	case abi.MetricKindCounter:
		c = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	case abi.MetricKindGauge:
		c = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	default:
		c = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help}, labels)
	}
	got, err := register(r.reg, c)
	if err != nil {
		return nil, err
	}
	var ok bool
	switch kind {
	case abi.MetricKindCounter:
		sm.counter, ok = got.(*prometheus.CounterVec)
	case abi.MetricKindGauge:
		sm.gauge, ok = got.(*prometheus.GaugeVec)
	default:
		sm.histogram, ok = got.(*prometheus.HistogramVec)
	}
	if !ok {
		return nil, fmt.Errorf("metric %q is already registered as another type; use another name", name)
	}
	r.byName[name] = sm
	return sm, nil
}
