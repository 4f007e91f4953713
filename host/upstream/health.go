package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wasmgate/gateway/host/config"
)

// Active health-check request details.
const (
	healthUserAgent = "wasmgate-health-check"
	// healthBodyLimit bounds how much of a check's response body is read so the
	// connection can be reused.
	healthBodyLimit = 64 << 10
)

// healthChecker runs the active health checks of one pool.
type healthChecker struct {
	p        *Pool
	cfg      *config.HealthCheck
	client   *http.Client
	interval time.Duration
	timeout  time.Duration
	// urls[i] is the check URL of target i: its URL joined with cfg.Path.
	urls []string
	// runs[i] counts target i's consecutive results.
	runs []healthRun
}

// healthRun counts one target's consecutive check results.
type healthRun struct {
	mu        sync.Mutex
	successes int
	failures  int
}

func newHealthChecker(p *Pool, hc *config.HealthCheck) (*healthChecker, error) {
	if hc.Interval <= 0 {
		return nil, fmt.Errorf("health check: interval %s is not positive; set interval, e.g. \"10s\"", hc.Interval)
	}
	if hc.Timeout < 0 {
		return nil, fmt.Errorf("health check: timeout %s is negative; set timeout, e.g. \"2s\"", hc.Timeout)
	}
	h := &healthChecker{
		p:   p,
		cfg: hc,
		client: &http.Client{
			Transport: p.transport,
			// A redirect is an answer: judge its status, do not follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		interval: hc.Interval,
		timeout:  hc.Timeout,
		urls:     make([]string, len(p.targets)),
		runs:     make([]healthRun, len(p.targets)),
	}
	if h.timeout == 0 {
		h.timeout = hc.Interval
	}
	path, query, _ := strings.Cut(hc.Path, "?")
	for i, t := range p.targets {
		u := t.url.JoinPath(path)
		u.RawQuery = query
		h.urls[i] = u.String()
	}
	return h, nil
}

// run checks every target once per interval until ctx is done, then closes stopped.
func (h *healthChecker) run(ctx context.Context, stopped chan<- struct{}) {
	defer close(stopped)
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			h.checkOnce(ctx)
		}
	}
}

// checkOnce checks every target concurrently and returns when all are done.
func (h *healthChecker) checkOnce(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range h.p.targets {
		wg.Go(func() { h.check(ctx, i) })
	}
	wg.Wait()
}

// check probes target i once and updates its health. A check cut short by
// ctx (the pool closing) counts for nothing.
func (h *healthChecker) check(ctx context.Context, i int) {
	ok := h.probe(ctx, i)
	if ctx.Err() != nil {
		return
	}
	t := h.p.targets[i]
	run := &h.runs[i]
	run.mu.Lock()
	from, to := "", ""
	if ok {
		run.successes, run.failures = run.successes+1, 0
		if !t.healthy.Load() && run.successes >= max(h.cfg.HealthyThreshold, 1) {
			t.healthy.Store(true)
			from, to = "unhealthy", "healthy"
		}
	} else {
		run.successes, run.failures = 0, run.failures+1
		if t.healthy.Load() && run.failures >= max(h.cfg.UnhealthyThreshold, 1) {
			t.healthy.Store(false)
			from, to = "healthy", "unhealthy"
		}
	}
	run.mu.Unlock()
	if to != "" {
		h.p.stateChange(t, from, to)
	}
}

// probe sends one check request to target i and reports whether the status is expected.
func (h *healthChecker) probe(ctx context.Context, i int) bool {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.urls[i], nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", healthUserAgent)
	resp, err := h.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, healthBodyLimit))
	_ = resp.Body.Close()
	if len(h.cfg.ExpectStatus) > 0 {
		return slices.Contains(h.cfg.ExpectStatus, resp.StatusCode)
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// checkOnce runs one round of active health checks now; tests drive health with it.
func (p *Pool) checkOnce(ctx context.Context) {
	if p.health != nil {
		p.health.checkOnce(ctx)
	}
}
