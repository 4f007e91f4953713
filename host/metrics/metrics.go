// Package metrics holds the gateway's Prometheus registry and the request-path
// instruments. It is created once per process and survives config reloads, so
// counters keep counting across generations.
//
// The hot path never builds label sets per request: RouteMetrics caches the
// counter for each (method, status) pair a route has seen.
package metrics

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every gateway metric.
const Namespace = "gateway"

// latencyBuckets cover 100µs to 30s, fine-grained where proxies live.
var latencyBuckets = []float64{
	.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30,
}

// Metrics is the process-wide set of gateway instruments.
type Metrics struct {
	// Registry is what /metrics serves. Other packages (plugins, upstreams)
	// register their own collectors on it.
	Registry *prometheus.Registry

	requests         *prometheus.CounterVec
	duration         *prometheus.HistogramVec
	upstreamDuration *prometheus.HistogramVec
	inFlight         prometheus.Gauge
	reloads          *prometheus.CounterVec
	rejected         *prometheus.CounterVec

	mu     sync.Mutex
	routes map[string]*RouteMetrics
	ups    map[string]prometheus.Observer
}

// New creates the registry with the Go runtime and process collectors and the
// gateway's own instruments.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "requests_total",
			Help: "Requests answered, by route key, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "request_duration_seconds",
			Help:    "Time from request received to response written, by route key.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "upstream_duration_seconds",
			Help:    "Time spent waiting for upstream responses (headers and body), by upstream.",
			Buckets: latencyBuckets,
		}, []string{"upstream"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "requests_in_flight",
			Help: "Requests being served right now.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "config_reloads_total",
			Help: "Configuration reloads, by result (success or failure).",
		}, []string{"result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "requests_rejected_total",
			Help: "Requests refused before routing, by reason (bad_path, body_too_large, not_found, method_not_allowed).",
		}, []string{"reason"}),
		routes: make(map[string]*RouteMetrics),
		ups:    make(map[string]prometheus.Observer),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.upstreamDuration, m.inFlight, m.reloads, m.rejected,
	)
	// Pre-create the reload series so dashboards see zeros.
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// InFlight is the in-flight requests gauge.
func (m *Metrics) InFlight() prometheus.Gauge { return m.inFlight }

// Reload counts one reload attempt.
func (m *Metrics) Reload(ok bool) {
	if ok {
		m.reloads.WithLabelValues("success").Inc()
		return
	}
	m.reloads.WithLabelValues("failure").Inc()
}

// Rejected counts a request refused before it reached a route.
func (m *Metrics) Rejected(reason string) { m.rejected.WithLabelValues(reason).Inc() }

// Upstream returns the latency observer of an upstream, cached.
func (m *Metrics) Upstream(name string) prometheus.Observer {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.ups[name]
	if !ok {
		o = m.upstreamDuration.WithLabelValues(name)
		m.ups[name] = o
	}
	return o
}

// Route returns the instruments of one route key. The same key returns the same
// value across reloads.
func (m *Metrics) Route(key string) *RouteMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	rm, ok := m.routes[key]
	if !ok {
		rm = &RouteMetrics{m: m, key: key, duration: m.duration.WithLabelValues(key)}
		m.routes[key] = rm
	}
	return rm
}

// RouteMetrics are the instruments of one route key.
type RouteMetrics struct {
	m        *Metrics
	key      string
	duration prometheus.Observer
	counters sync.Map // uint32(method index<<16 | status) -> prometheus.Counter
}

// methods are the label values of the method label; anything else is "OTHER",
// so a client cannot grow the series count with made-up methods.
var methods = [...]string{"OTHER", http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace}

func methodIndex(m string) uint32 {
	for i := 1; i < len(methods); i++ {
		if methods[i] == m {
			return uint32(i)
		}
	}
	return 0
}

// Observe records one answered request.
func (rm *RouteMetrics) Observe(method string, status int, d time.Duration) {
	if status < 100 || status > 999 {
		status = 0
	}
	k := methodIndex(method)<<16 | uint32(status)
	c, ok := rm.counters.Load(k)
	if !ok {
		c, _ = rm.counters.LoadOrStore(k, rm.m.requests.WithLabelValues(rm.key, methods[k>>16], strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
	rm.duration.Observe(d.Seconds())
}

// Register registers c with reg and returns it, or returns the identical
// collector registered before (by an earlier config generation). Metrics that
// outlive reloads are registered this way.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	var are prometheus.AlreadyRegisteredError
	if err := reg.Register(c); errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
}
