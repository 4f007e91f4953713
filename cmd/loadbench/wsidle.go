package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"time"
)

// wsConnGauge is the gateway's gauge of open managed WebSocket connections,
// labelled by API.
const wsConnGauge = "gateway_websocket_connections"

// wsIdleConfig is what wsidle measures.
type wsIdleConfig struct {
	Addr  string // host:port of the gateway's listener
	Admin string // host:port of its admin listener
	Path  string // handshake path of the WebSocket API
	API   string // the API's name, the api label of wsConnGauge
	PID   int    // the gateway's process id
	Conns int
	// Settle bounds each wait for VmRSS to settle; Interval is the time
	// between samples, and the last settleWindow samples must agree.
	Settle, Interval time.Duration
	// Heap also reads the heap and goroutine profiles from the admin
	// listener (after each VmRSS reading; the heap one after a GC).
	Heap bool
}

// settleWindow is how many consecutive VmRSS samples must agree (see
// settled) for the reading to count as settled.
const settleWindow = 5

// wsIdleResult is what many idle WebSocket connections cost the gateway.
type wsIdleResult struct {
	Path       string  `json:"path"`
	Conns      int     `json:"conns"`  // connections upgraded (101) and held open
	Failed     int     `json:"failed"` // connections that could not be opened
	FirstError string  `json:"first_error,omitempty"`
	Gauge      float64 `json:"gateway_websocket_connections"` // the gateway's own count, with every connection open
	RSSBefore  int64   `json:"rss_before"`                    // settled VmRSS before, bytes
	RSSAfter   int64   `json:"rss_after"`                     // settled VmRSS with every connection open
	RSSPerConn int64   `json:"rss_per_conn"`
	// RSSSamples are the last VmRSS samples with the connections open, oldest
	// first; Settled is false if they never agreed within the settle time.
	RSSSamples []int64 `json:"rss_samples"`
	Settled    bool    `json:"settled"`
	// Stats are Go runtime figures before and after (goroutines, and with
	// --heap runtime.MemStats read after a GC).
	Stats []statDelta `json:"stats"`
	// HeapRate is the heap profile's sampling rate in bytes (1 = exact).
	HeapRate   int64      `json:"heap_profile_rate,omitempty"`
	HeapSites  []siteCost `json:"heap_sites,omitempty"` // in-use bytes per connection by allocation site
	Goroutines []siteCost `json:"goroutines,omitempty"` // goroutines per connection by start function
	HeapNote   string     `json:"heap_note,omitempty"`  // why there are no heap figures
}

// statDelta is one runtime figure before and after opening the connections.
type statDelta struct {
	Name   string `json:"name"`
	Before int64  `json:"before"`
	After  int64  `json:"after"`
	Bytes  bool   `json:"bytes"` // a byte count, else a count of things
}

// memStatFields are the runtime.MemStats figures wsidle reports.
var memStatFields = []string{"HeapAlloc", "HeapInuse", "HeapObjects", "StackInuse", "MSpanInuse", "Sys"}

// Sites that grew by less than this per connection are noise, not listed.
const (
	minSiteBytes      = 8
	minSiteGoroutines = 0.01
)

// wsSnapshot is the gateway's state at one point of a wsidle run.
type wsSnapshot struct {
	rss        int64
	samples    []int64
	settled    bool
	goroutines int
	gRecords   []profileRecord
	heap       *heapProfile
}

// snapshot waits for the gateway's VmRSS to settle, then reads the profiles.
func (cfg *wsIdleConfig) snapshot(ctx context.Context) (*wsSnapshot, error) {
	s := &wsSnapshot{}
	var err error
	s.samples, s.settled, err = settleRSS(ctx, cfg.PID, cfg.Interval, cfg.Settle)
	if err != nil {
		return nil, err
	}
	s.rss = s.samples[len(s.samples)-1]
	if !cfg.Heap {
		return s, nil
	}
	b, err := adminGet(ctx, cfg.Admin, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return nil, err
	}
	if s.goroutines, s.gRecords, err = parseGoroutineProfile(b); err != nil {
		return nil, err
	}
	// gc=1 collects first, so the in-use figures are those of live objects.
	if b, err = adminGet(ctx, cfg.Admin, "/debug/pprof/heap?debug=1&gc=1"); err != nil {
		return nil, err
	}
	s.heap, err = parseHeapProfile(b)
	return s, err
}

// settleRSS samples the VmRSS of pid every interval until the last
// settleWindow samples agree (see settled), or until limit has
// passed. It returns the last samples, oldest first, and whether they agreed.
func settleRSS(ctx context.Context, pid int, interval, limit time.Duration) ([]int64, bool, error) {
	deadline := time.Now().Add(limit)
	var samples []int64
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rss, err := procStatusKB(pid, "VmRSS")
		if err != nil {
			return nil, false, err
		}
		samples = append(samples, rss)
		if len(samples) > settleWindow {
			samples = samples[1:]
		}
		if len(samples) == settleWindow && settled(samples) {
			return samples, true, nil
		}
		if time.Now().After(deadline) {
			return samples, false, nil
		}
		select {
		case <-ctx.Done():
			return nil, false, fmt.Errorf("wait for VmRSS to settle: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// settled reports whether samples lie within 1% of their largest, or within
// 256 KiB for a small process.
func settled(samples []int64) bool {
	lo, hi := samples[0], samples[0]
	for _, s := range samples[1:] {
		lo, hi = min(lo, s), max(hi, s)
	}
	return hi-lo <= max(hi/100, 256<<10)
}

// runWSIdle opens cfg.Conns WebSocket connections to the gateway with raw
// handshakes and keeps them idle while it measures the gateway. It closes
// them all before it returns and gives up when ctx is done.
func runWSIdle(ctx context.Context, cfg *wsIdleConfig) (*wsIdleResult, error) {
	if err := checkNoFileLimit(cfg.Conns); err != nil {
		return nil, err
	}
	before, err := cfg.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("before opening connections: %w", err)
	}
	req := buildWSHandshake(cfg.Addr, cfg.Path, wsKey)
	opened, failed, firstErr := openMany(ctx, cfg.Conns, func() openFunc {
		buf := make([]byte, maxHandshakeResponse)
		d := net.Dialer{Timeout: 5 * time.Second}
		return func(ctx context.Context) (net.Conn, error) { return dialWS(ctx, &d, cfg.Addr, req, buf) }
	})
	defer closeAll(opened)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stopped while opening connections to %s: %w", cfg.Path, err)
	}
	if failed == cfg.Conns {
		return nil, fmt.Errorf("none of the %d connections to %s opened: %w", cfg.Conns, cfg.Path, firstErr)
	}
	after, err := cfg.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("with the connections open: %w", err)
	}
	metrics, err := adminGet(ctx, cfg.Admin, "/metrics")
	if err != nil {
		return nil, err
	}
	gauge, ok := metricValue(metrics, wsConnGauge, map[string]string{"api": cfg.API})
	if !ok {
		return nil, fmt.Errorf("the gateway's /metrics has no %s{api=%q}; is the API named %q?", wsConnGauge, cfg.API, cfg.API)
	}
	res := &wsIdleResult{
		Path: cfg.Path, Conns: cfg.Conns - failed, Failed: failed, Gauge: gauge,
		RSSBefore: before.rss, RSSAfter: after.rss, RSSSamples: after.samples, Settled: before.settled && after.settled,
	}
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	if res.Conns > 0 {
		res.RSSPerConn = (res.RSSAfter - res.RSSBefore) / int64(res.Conns)
	}
	if !cfg.Heap {
		res.HeapNote = "heap figures skipped (--heap=false)"
		return res, nil
	}
	res.Stats = append(res.Stats, statDelta{Name: "goroutines", Before: int64(before.goroutines), After: int64(after.goroutines)})
	for _, f := range memStatFields {
		res.Stats = append(res.Stats, statDelta{Name: f, Before: before.heap.MemStats[f], After: after.heap.MemStats[f], Bytes: f != "HeapObjects"})
	}
	res.HeapRate = after.heap.Rate
	res.HeapSites = costPerConn(before.heap.Records, after.heap.Records, heapSite,
		func(r profileRecord) float64 { return r.Bytes }, res.Conns, 10, minSiteBytes)
	res.Goroutines = costPerConn(before.gRecords, after.gRecords, goroutineSite,
		func(r profileRecord) float64 { return r.Count }, res.Conns, 5, minSiteGoroutines)
	return res, nil
}

// perConn divides a growth by the number of connections.
func perConn(d int64, conns int) float64 {
	if conns <= 0 {
		return 0
	}
	return float64(d) / float64(conns)
}

// fmtPerConn prints a per-connection figure: bytes with a unit, counts with
// two decimals.
func fmtPerConn(v float64, bytes bool) string {
	if bytes {
		return formatBytes(int64(math.Round(v)))
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtStat(v int64, bytes bool) string {
	if bytes {
		return formatBytes(v)
	}
	return fmt.Sprint(v)
}

// writeWSIdle prints a wsidle result as markdown.
func writeWSIdle(w io.Writer, r *wsIdleResult) {
	fmt.Fprintf(w, "\nWebSocket idle connections to %s: %d open (%d failed), the gateway's %s = %.0f.\n",
		r.Path, r.Conns, r.Failed, wsConnGauge, r.Gauge)
	if r.FirstError != "" {
		fmt.Fprintf(w, "First failure: %s\n", r.FirstError)
	}
	fmt.Fprintf(w, "\n| gateway | before | with %d open | per connection |\n|---|--:|--:|--:|\n", r.Conns)
	fmt.Fprintf(w, "| VmRSS | %s | %s | %s |\n", formatBytes(r.RSSBefore), formatBytes(r.RSSAfter), formatBytes(r.RSSPerConn))
	for _, s := range r.Stats {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", s.Name, fmtStat(s.Before, s.Bytes), fmtStat(s.After, s.Bytes),
			fmtPerConn(perConn(s.After-s.Before, r.Conns), s.Bytes))
	}
	samples := make([]string, len(r.RSSSamples))
	for i, s := range r.RSSSamples {
		samples[i] = formatBytes(s)
	}
	state := "settled"
	if !r.Settled {
		state = "NOT settled within the time allowed (--settle)"
	}
	fmt.Fprintf(w, "\nVmRSS samples with the connections open: %s (%s).\n", strings.Join(samples, ", "), state)
	if r.HeapNote != "" {
		fmt.Fprintf(w, "%s.\n", r.HeapNote)
		return
	}
	fmt.Fprintln(w, "MemStats rows are read after a GC (heap?gc=1), once VmRSS has been sampled.")
	if len(r.HeapSites) > 0 {
		exact := "every allocation recorded"
		if r.HeapRate > 1 {
			exact = "sampled every " + formatBytes(r.HeapRate) + " and scaled, so approximate; GODEBUG=memprofilerate=1 makes it exact"
		}
		fmt.Fprintf(w, "\n| heap allocation site (in use, %s) | per connection |\n|---|--:|\n", exact)
		for _, s := range r.HeapSites {
			fmt.Fprintf(w, "| %s | %s |\n", s.Site, fmtPerConn(s.PerConn, true))
		}
	}
	if len(r.Goroutines) > 0 {
		fmt.Fprintln(w, "\n| goroutine started in | per connection |\n|---|--:|")
		for _, s := range r.Goroutines {
			fmt.Fprintf(w, "| %s | %s |\n", s.Site, fmtPerConn(s.PerConn, false))
		}
	}
}

const wsIdleUsage = `usage: loadbench wsidle --gateway bin/gateway [--conns 10000] [flags]

Starts the backend and the gateway on a WebSocket config template, waits for
the gateway's VmRSS to settle, opens N WebSocket connections (raw handshakes,
each checked for 101 and its Sec-WebSocket-Accept) and keeps them idle, waits
for VmRSS to settle again, and reports VmRSS before and after and per
connection, the gateway's gateway_websocket_connections gauge, and (--heap)
Go runtime figures and the top heap allocation sites and goroutines per
connection from the admin listener's /debug/pprof. Nothing is forced in the
gateway before a VmRSS reading; the heap profiles are read after it, with
gc=1. The template must serve GET /ready and the WebSocket API on --path.

flags:
`

func cmdWSIdle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsidle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gateway := fs.String("gateway", "", "path of the gateway binary (required; build it with make gateway)")
	tmpl := fs.String("template", wsTemplate, "gateway config template (builtin:NAME for cmd/loadbench/testdata/NAME)")
	path := fs.String("path", "/ws/fn", "handshake path of the WebSocket API")
	api := fs.String("api", "fn", "name of the websocket_api block serving --path (the api label of "+wsConnGauge+")")
	conns := fs.Int("conns", 10000, "WebSocket connections to open and keep idle")
	settle := fs.Duration("settle", 30*time.Second, "longest wait for VmRSS to settle, before and after opening")
	interval := fs.Duration("interval", 500*time.Millisecond, "time between VmRSS samples")
	heap := fs.Bool("heap", true, "also report Go heap and goroutine figures from the admin /debug/pprof")
	jsonPath := fs.String("json", "", "also write the result as JSON to this file")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprint(stderr, wsIdleUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *gateway == "" || *conns <= 0 || *settle <= 0 || *interval <= 0 || !strings.HasPrefix(*path, "/") || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "loadbench wsidle: need --gateway PATH, --conns > 0, --settle and --interval > 0, and --path starting with /; see loadbench wsidle -h")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := wsIdle(ctx, *gateway, *tmpl, &wsIdleConfig{
		Path: *path, API: *api, Conns: *conns, Settle: *settle, Interval: *interval, Heap: *heap,
	})
	return finish(stdout, stderr, "wsidle", res, err, writeWSIdle, *jsonPath)
}

// finish ends a command that produced res (or err): it prints res with write
// and, with jsonPath, writes it there as JSON too. It returns the exit code.
func finish[T any](stdout, stderr io.Writer, cmd string, res T, err error, write func(io.Writer, T), jsonPath string) int {
	if err == nil {
		write(stdout, res)
		if jsonPath != "" {
			err = writeJSON(jsonPath, res)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadbench %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// wsIdle starts the gateway, runs wsidle against it and stops it again. The
// file limit is raised first, so the gateway inherits it.
func wsIdle(ctx context.Context, bin, tmpl string, cfg *wsIdleConfig) (*wsIdleResult, error) {
	if err := checkNoFileLimit(cfg.Conns); err != nil {
		return nil, err
	}
	g, err := startWSGateway(ctx, bin, tmpl)
	if err != nil {
		return nil, err
	}
	defer g.stop()
	cfg.Addr, cfg.Admin, cfg.PID = g.gw.addr, g.gw.admin, g.gw.pid()
	return runWSIdle(ctx, cfg)
}
