package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsRTTConfig is one wsrtt measurement: Conns WebSocket connections to URL,
// each sending a message and waiting for its echo in a loop.
type wsRTTConfig struct {
	URL      string // ws://HOST:PORT/path
	Conns    int
	Duration time.Duration
	Warmup   time.Duration // unmeasured round trips first, on the same connections
	// Timeout bounds how long after the end a round trip may still be
	// outstanding; it then fails and its connection is closed.
	Timeout time.Duration
}

// wsRTTResult is the outcome of one wsrtt target.
type wsRTTResult struct {
	Name       string  `json:"name"`
	URL        string  `json:"url"`
	Conns      int     `json:"conns"`
	Messages   uint64  `json:"messages"` // round trips answered with the message itself
	Errors     uint64  `json:"errors"`   // failed round trips and replies that were not the echo
	Seconds    float64 `json:"seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	P50Ms      float64 `json:"p50_ms"`
	P90Ms      float64 `json:"p90_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	FirstError string  `json:"first_error,omitempty"`
}

// appendEchoMessage appends the message wsrtt sends, {"action":"echo","n":N}:
// the default route selection picks the route "echo".
func appendEchoMessage(b []byte, n uint64) []byte {
	b = append(b, `{"action":"echo","n":`...)
	b = strconv.AppendUint(b, n, 10)
	return append(b, '}')
}

// wsWorker is one connection of a wsrtt run and its running totals.
type wsWorker struct {
	url      string
	c        *websocket.Conn
	seq      uint64
	msg      []byte
	reply    bytes.Buffer
	hist     *Histogram
	messages uint64
	errors   uint64
	firstErr error
}

func (w *wsWorker) dial(ctx context.Context) error {
	c, _, err := websocket.Dial(ctx, w.url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return fmt.Errorf("dial %s: %w", w.url, err)
	}
	w.c = c
	return nil
}

func (w *wsWorker) fail(err error) {
	w.errors++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

// roundTrip sends one message and reads the reply; it returns an error only
// when the connection is no longer usable.
func (w *wsWorker) roundTrip(ctx context.Context) error {
	w.seq++
	w.msg = appendEchoMessage(w.msg[:0], w.seq)
	start := time.Now()
	if err := w.c.Write(ctx, websocket.MessageText, w.msg); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	_, r, err := w.c.Reader(ctx)
	if err == nil {
		w.reply.Reset()
		_, err = w.reply.ReadFrom(r)
	}
	if err != nil {
		return fmt.Errorf("read the reply: %w", err)
	}
	rtt := time.Since(start)
	if w.hist != nil {
		if !bytes.Equal(w.reply.Bytes(), w.msg) {
			w.fail(fmt.Errorf("reply %.200q to %q is not the echo", w.reply.Bytes(), w.msg))
			return nil
		}
		w.hist.Record(rtt)
		w.messages++
	}
	return nil
}

// loop runs round trips until end, redialling once after a failed one, and
// gives up if that dial fails. Without w.hist (the warm-up) nothing is counted.
func (w *wsWorker) loop(ctx context.Context, end time.Time) {
	for time.Now().Before(end) {
		if w.c == nil {
			if err := w.dial(ctx); err != nil {
				if w.hist != nil {
					w.fail(err)
				}
				return // no busy loop against a gateway that refuses connections
			}
		}
		if err := w.roundTrip(ctx); err != nil {
			if w.hist != nil {
				w.fail(err)
			}
			_ = w.c.CloseNow()
			w.c = nil
		}
	}
}

// runWSRTT measures WebSocket round trips to cfg.URL. Every connection is
// opened before the clock starts and closed (with a close handshake) at the end.
func runWSRTT(ctx context.Context, cfg wsRTTConfig) (*wsRTTResult, error) {
	if cfg.Conns < 1 || cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.Timeout <= 0 {
		return nil, fmt.Errorf("wsrtt %s: need conns >= 1, duration > 0, warmup >= 0 and timeout > 0", cfg.URL)
	}
	workers := make([]*wsWorker, cfg.Conns)
	defer func() {
		var wg sync.WaitGroup
		for _, w := range workers {
			if w != nil && w.c != nil {
				wg.Go(func() { _ = w.c.Close(websocket.StatusNormalClosure, "") })
			}
		}
		wg.Wait()
	}()
	for i := range workers {
		w := &wsWorker{url: cfg.URL}
		if err := w.dial(ctx); err != nil {
			return nil, fmt.Errorf("connection %d of %d: %w", i+1, cfg.Conns, err)
		}
		workers[i] = w
	}
	run := func(d time.Duration, measure bool) time.Duration {
		end := time.Now().Add(d)
		rctx, cancel := context.WithDeadline(ctx, end.Add(cfg.Timeout))
		defer cancel()
		start := time.Now()
		var wg sync.WaitGroup
		for _, w := range workers {
			if measure {
				w.hist = NewHistogram()
			}
			wg.Go(func() { w.loop(rctx, end) })
		}
		wg.Wait()
		return time.Since(start)
	}
	if cfg.Warmup > 0 {
		run(cfg.Warmup, false)
	}
	elapsed := run(cfg.Duration, true)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wsrtt %s: %w", cfg.URL, err)
	}
	res := &wsRTTResult{URL: cfg.URL, Conns: cfg.Conns, Seconds: elapsed.Seconds()}
	h := NewHistogram()
	for _, w := range workers {
		h.Merge(w.hist)
		res.Messages += w.messages
		res.Errors += w.errors
		if res.FirstError == "" && w.firstErr != nil {
			res.FirstError = w.firstErr.Error()
		}
	}
	res.MsgsPerSec = float64(res.Messages) / elapsed.Seconds()
	res.P50Ms, res.P90Ms, res.P99Ms = ms(h.Percentile(50)), ms(h.Percentile(90)), ms(h.Percentile(99))
	res.MaxMs = ms(h.Max())
	return res, nil
}

// wsRTTReport is the outcome of `loadbench wsrtt`.
type wsRTTReport struct {
	Conns     int            `json:"conns"`
	Duration  string         `json:"duration"`
	Warmup    string         `json:"warmup"`
	CPUs      int            `json:"cpus"`
	GoVersion string         `json:"go_version"`
	Time      time.Time      `json:"time"`
	Targets   []*wsRTTResult `json:"targets"`
}

// writeWSRTT prints a wsrtt report as markdown.
func writeWSRTT(w io.Writer, rep *wsRTTReport) {
	fmt.Fprintf(w, "\nWebSocket round trips: %d connections per route, %s (+%s warm-up), one message {\"action\":\"echo\",\"n\":N} outstanding per connection, %d CPUs, %s.\n\n",
		rep.Conns, rep.Duration, rep.Warmup, rep.CPUs, rep.GoVersion)
	fmt.Fprintln(w, "| route | messages | msgs/s | p50 | p90 | p99 | max | errors |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %s | %s | %d |\n", t.Name, t.Messages, t.MsgsPerSec,
			fmtMsField(t.P50Ms), fmtMsField(t.P90Ms), fmtMsField(t.P99Ms), fmtMsField(t.MaxMs), t.Errors)
	}
	for _, t := range rep.Targets {
		if t.FirstError != "" {
			fmt.Fprintf(w, "\n%s first error: %s\n", t.Name, t.FirstError)
		}
	}
}

// wsTarget is one WebSocket route wsrtt measures: name=/path.
type wsTarget struct{ Name, Path string }

// parseWSTarget parses a wsrtt --target value, name=/path.
func parseWSTarget(s string) (wsTarget, error) {
	name, path, ok := strings.Cut(s, "=")
	if !ok || name == "" || !strings.HasPrefix(path, "/") {
		return wsTarget{}, fmt.Errorf("--target %q: want name=/path, e.g. fn=/ws/fn", s)
	}
	return wsTarget{Name: name, Path: path}, nil
}

// defaultWSTargets are the two-way routes of the built-in websocket.hcl.
var defaultWSTargets = []string{"ws-fn=/ws/fn", "ws-upstream=/ws/upstream"}

const wsRTTUsage = `usage: loadbench wsrtt --gateway bin/gateway [--target name=/path]... [flags]

Starts the backend and the gateway on a WebSocket config template, then for
each target in turn opens C WebSocket connections to its two-way route; each
sends {"action":"echo","n":N} and waits for the reply in a loop, for the
warm-up and then for the measured duration. A reply that is not the message
itself counts as an error. Prints messages/s and round-trip p50, p90, p99 and
max. Without --target it measures ws-fn=/ws/fn (the wsecho function) and
ws-upstream=/ws/upstream (POSTed to the backend, which echoes it) of
builtin:websocket.hcl.

flags:
`

func cmdWSRTT(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsrtt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gateway := fs.String("gateway", "", "path of the gateway binary (required; build it with make gateway)")
	tmpl := fs.String("template", wsTemplate, "gateway config template (builtin:NAME for cmd/loadbench/testdata/NAME)")
	var targets targetList
	fs.Var(&targets, "target", "two-way WebSocket route name=/path (repeatable)")
	conns := fs.Int("conns", 32, "WebSocket connections per target, one message outstanding on each")
	duration := fs.Duration("duration", 10*time.Second, "measured time per target")
	warmup := fs.Duration("warmup", time.Second, "unmeasured round trips before (0 for none)")
	timeout := fs.Duration("timeout", 10*time.Second, "a round trip still unanswered this long after the end fails")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	fs.Usage = func() {
		fmt.Fprint(stderr, wsRTTUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *gateway == "" || *conns < 1 || *duration <= 0 || *warmup < 0 || *timeout <= 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "loadbench wsrtt: need --gateway PATH, --conns >= 1, --duration > 0, --warmup >= 0 and --timeout > 0; see loadbench wsrtt -h")
		return 2
	}
	if len(targets) == 0 {
		targets = defaultWSTargets
	}
	var ts []wsTarget
	for _, s := range targets {
		t, err := parseWSTarget(s)
		if err != nil {
			fmt.Fprintf(stderr, "loadbench wsrtt: %v\n", err)
			return 2
		}
		ts = append(ts, t)
	}
	rep := &wsRTTReport{
		Conns: *conns, Duration: duration.String(), Warmup: warmup.String(),
		CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Time: time.Now().UTC(),
	}
	err := wsRTT(ctx, *gateway, *tmpl, ts, wsRTTConfig{Conns: *conns, Duration: *duration, Warmup: *warmup, Timeout: *timeout}, rep, stderr)
	return finish(stdout, stderr, "wsrtt", rep, err, writeWSRTT, *jsonPath)
}

// wsRTT starts the gateway, measures each target in turn into rep and stops
// the gateway again.
func wsRTT(ctx context.Context, bin, tmpl string, targets []wsTarget, cfg wsRTTConfig, rep *wsRTTReport, progress io.Writer) error {
	g, err := startWSGateway(ctx, bin, tmpl)
	if err != nil {
		return err
	}
	defer g.stop()
	for _, t := range targets {
		cfg.URL = "ws://" + g.gw.addr + t.Path
		res, err := runWSRTT(ctx, cfg)
		if err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
		res.Name = t.Name
		fmt.Fprintf(progress, "wsrtt %-14s %8.0f msgs/s  p50 %-9s p99 %-9s errors %d\n",
			t.Name, res.MsgsPerSec, fmtMsField(res.P50Ms), fmtMsField(res.P99Ms), res.Errors)
		rep.Targets = append(rep.Targets, res)
	}
	return nil
}
