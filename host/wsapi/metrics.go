package wsapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/host/metrics"
)

type hubMetrics struct {
	open          *prometheus.GaugeVec
	handshakes    *prometheus.CounterVec
	messages      *prometheus.CounterVec
	messageErrors *prometheus.CounterVec
	closes        *prometheus.CounterVec
	integration   *prometheus.HistogramVec
}

func newHubMetrics(reg prometheus.Registerer) *hubMetrics {
	m := &hubMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_websocket_connections",
			Help: "Open WebSocket connections of managed APIs on this instance.",
		}, []string{"api"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_websocket_handshakes_total",
			Help: "WebSocket handshakes by result: accepted, rejected (by $connect) or failed.",
		}, []string{"api", "result"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_websocket_messages_total",
			Help: "WebSocket messages by route and direction (in from clients, out to clients).",
		}, []string{"api", "route", "direction"}),
		messageErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_websocket_message_errors_total",
			Help: "Client messages not delivered: no_route, throttled or integration.",
		}, []string{"api", "route", "reason"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_websocket_closes_total",
			Help: "Closed WebSocket connections by close code.",
		}, []string{"api", "code"}),
		integration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_websocket_integration_duration_seconds",
			Help:    "Time WebSocket route integrations took to answer.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"api", "route"}),
	}
	if reg != nil {
		m.open = metrics.Register(reg, m.open)
		m.handshakes = metrics.Register(reg, m.handshakes)
		m.messages = metrics.Register(reg, m.messages)
		m.messageErrors = metrics.Register(reg, m.messageErrors)
		m.closes = metrics.Register(reg, m.closes)
		m.integration = metrics.Register(reg, m.integration)
	}
	return m
}
