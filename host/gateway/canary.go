package gateway

import (
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/proxy"
	"github.com/wasmgate/gateway/host/upstream"
)

// split is the runtime form of a route's weighted (canary) split.
type split struct {
	arms  []splitArm
	total uint64
	// header or cookie names the sticky value; both "" = random per request.
	header, cookie string
}

type splitArm struct {
	cfg     *config.Upstream
	pool    *upstream.Pool
	cum     uint64 // cumulative weight up to and including this arm
	counter prometheus.Counter
}

// newSplit builds rc's split, or returns nil when rc has none.
func newSplit(rc *config.Route, pools map[string]*upstream.Pool, reg prometheus.Registerer) *split {
	if rc.Split == nil {
		return nil
	}
	cv := registerCounterVec(reg, prometheus.CounterOpts{
		Name: "gateway_canary_requests_total",
		Help: "Requests of weighted (canary) routes by route and the upstream picked.",
	}, "route", "upstream")
	s := &split{}
	if kind, name, _ := strings.Cut(rc.Split.Sticky, ":"); kind == "header" {
		s.header = name
	} else if kind == "cookie" {
		s.cookie = name
	}
	for _, wu := range rc.Split.Upstreams {
		s.total += uint64(wu.Weight)
		s.arms = append(s.arms, splitArm{
			cfg:     wu.Upstream,
			pool:    pools[wu.Upstream.Name],
			cum:     s.total,
			counter: cv.WithLabelValues(rc.Key, wu.Upstream.Name),
		})
	}
	return s
}

// pick chooses the upstream of one request and points ex at it. A request
// with the sticky header or cookie always lands on the same upstream (for
// unchanged weights, on every instance: the hash is FNV-1a, unseeded);
// others are spread at random by weight.
func (s *split) pick(r *http.Request, ex *proxy.Exchange) {
	var n uint64
	sticky := ""
	switch {
	case s.header != "":
		sticky = r.Header.Get(s.header)
	case s.cookie != "":
		if c, err := r.Cookie(s.cookie); err == nil {
			sticky = c.Value
		}
	}
	if sticky != "" {
		h := fnv.New64a()
		_, _ = h.Write([]byte(sticky))
		n = h.Sum64() % s.total
	} else {
		n = rand.Uint64N(s.total)
	}
	for i := range s.arms {
		a := &s.arms[i]
		if n < a.cum {
			a.counter.Inc()
			ex.Upstream = a.pool
			ex.Retry = a.cfg.Retry
			return
		}
	}
}
