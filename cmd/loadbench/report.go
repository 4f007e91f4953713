package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is the outcome of `loadbench run`, printed as markdown and written
// as JSON with --json.
type report struct {
	Generator string         `json:"generator"`
	Rounds    int            `json:"rounds"`
	Duration  string         `json:"round_duration"`
	Warmup    string         `json:"warmup"`
	Conns     int            `json:"conns"`
	CPUs      int            `json:"cpus"`
	GoVersion string         `json:"go_version"`
	Time      time.Time      `json:"time"`
	Targets   []targetReport `json:"targets"`
	// Idle maps a server process name to its idle-connection cost (--idle).
	Idle map[string]*idleResult `json:"idle,omitempty"`
	// Comparisons are the --compare pairs.
	Comparisons []comparison `json:"comparisons,omitempty"`
}

// comparison is target A's req/s relative to target B's (--compare A/B).
type comparison struct {
	A string `json:"a"`
	B string `json:"b"`
	// Ratio is the ratio of the two targets' median req/s, as the table's.
	Ratio float64 `json:"ratio_of_medians"`
	// Rounds are A's req/s over B's in each round; RoundsMedian is their
	// median, which a drift of the machine's speed during the run moves less.
	Rounds       []float64 `json:"round_ratios"`
	RoundsMedian float64   `json:"round_ratio_median"`
}

// targetReport summarises every round of one target.
type targetReport struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Template string `json:"template,omitempty"`
	Process  string `json:"process"`
	// Body is the --body file the target POSTs; "" for GET.
	Body      string    `json:"body,omitempty"`
	BodyBytes int       `json:"body_bytes,omitempty"`
	RPS       float64   `json:"rps_median"`
	RoundsRPS []float64 `json:"rps_rounds"`
	// P50Ms and P99Ms are over all rounds with the built-in generator and the
	// median of the rounds' percentiles with wrk.
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	Non2xx   uint64  `json:"non_2xx"`
	// RPSRatio and P99Ratio compare with the bareproxy target (1 for itself).
	RPSRatio float64 `json:"rps_vs_bareproxy"`
	P99Ratio float64 `json:"p99_vs_bareproxy"`
	// PeakRSS is the server process's VmHWM at the end of the run, in bytes.
	PeakRSS    int64  `json:"peak_rss_bytes"`
	FirstError string `json:"first_error,omitempty"`
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianDur(v []time.Duration) time.Duration {
	f := make([]float64, len(v))
	for i, d := range v {
		f[i] = float64(d)
	}
	return time.Duration(median(f))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func buildReport(o *runOptions, generator string, live []*liveTarget) *report {
	rep := &report{
		Generator: generator, Rounds: o.Rounds, Duration: o.Duration.String(), Warmup: o.Warmup.String(),
		Conns: o.Conns, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Time: time.Now().UTC(),
	}
	for _, lt := range live {
		tr := targetReport{
			Name: lt.Name, URL: lt.URL.String(), Template: lt.Template, Process: procKey(lt),
			Body: lt.body.Source, BodyBytes: len(lt.body.Data),
		}
		var p50s, p99s []time.Duration
		for _, r := range lt.rounds {
			tr.RoundsRPS = append(tr.RoundsRPS, r.RPS)
			tr.Requests += r.Requests
			tr.Errors += r.Errors
			tr.Non2xx += r.Non2xx
			p50s = append(p50s, r.P50)
			p99s = append(p99s, r.P99)
			if tr.FirstError == "" {
				tr.FirstError = r.FirstError
			}
		}
		tr.RPS = median(tr.RoundsRPS)
		if lt.hist != nil {
			tr.P50Ms, tr.P99Ms = ms(lt.hist.Percentile(50)), ms(lt.hist.Percentile(99))
		} else {
			tr.P50Ms, tr.P99Ms = ms(medianDur(p50s)), ms(medianDur(p99s))
		}
		if hwm, err := procStatusKB(lt.server.pid(), "VmHWM"); err == nil {
			tr.PeakRSS = hwm
		}
		rep.Targets = append(rep.Targets, tr)
	}
	var bare *targetReport
	for i := range rep.Targets {
		if rep.Targets[i].Name == targetBareproxy {
			bare = &rep.Targets[i]
		}
	}
	for i := range rep.Targets {
		t := &rep.Targets[i]
		if bare != nil && bare.RPS > 0 {
			t.RPSRatio = t.RPS / bare.RPS
		}
		if bare != nil && bare.P99Ms > 0 {
			t.P99Ratio = t.P99Ms / bare.P99Ms
		}
	}
	for _, pair := range o.Compare {
		if c, ok := compareTargets(rep.Targets, pair); ok {
			rep.Comparisons = append(rep.Comparisons, c)
		}
	}
	return rep
}

// compareTargets compares two measured targets; ok is false when either
// was not measured (it failed to start).
func compareTargets(targets []targetReport, pair comparePair) (c comparison, ok bool) {
	var a, b *targetReport
	for i := range targets {
		switch targets[i].Name {
		case pair.A:
			a = &targets[i]
		case pair.B:
			b = &targets[i]
		}
	}
	if a == nil || b == nil || b.RPS <= 0 {
		return c, false
	}
	c = comparison{A: a.Name, B: b.Name, Ratio: a.RPS / b.RPS}
	for r := range min(len(a.RoundsRPS), len(b.RoundsRPS)) {
		if b.RoundsRPS[r] > 0 {
			c.Rounds = append(c.Rounds, a.RoundsRPS[r]/b.RoundsRPS[r])
		}
	}
	c.RoundsMedian = median(c.Rounds)
	return c, true
}

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", ms(d))
	}
	return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
}

func fmtMsField(v float64) string { return fmtDur(time.Duration(v * float64(time.Millisecond))) }

func writeMarkdown(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\nLoad: %s, %d connections, %d rounds x %s (+%s warm-up each), %d CPUs, %s.\n\n",
		rep.Generator, rep.Conns, rep.Rounds, rep.Duration, rep.Warmup, rep.CPUs, rep.GoVersion)
	fmt.Fprintln(w, "| target | req/s (median) | p50 | p99 | errors | non-2xx | req/s vs bareproxy | p99 vs bareproxy | peak RSS |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d | %d | %.2fx | %.2fx | %s |\n",
			t.Name, t.RPS, fmtMsField(t.P50Ms), fmtMsField(t.P99Ms), t.Errors, t.Non2xx,
			t.RPSRatio, t.P99Ratio, formatBytes(t.PeakRSS))
	}
	var notes []string
	if strings.HasPrefix(rep.Generator, "wrk") {
		notes = append(notes, "p50 and p99 are the median of the rounds' wrk percentiles")
	} else {
		notes = append(notes, "p50 and p99 are over all rounds")
	}
	notes = append(notes, "peak RSS is the server's VmHWM; the direct row is the backend, which also served every proxied request")
	for _, t := range rep.Targets {
		if t.Body != "" {
			notes = append(notes, fmt.Sprintf("%s POSTs %s (%d bytes)", t.Name, t.Body, t.BodyBytes))
		}
	}
	fmt.Fprintf(w, "\n%s.\n", strings.Join(notes, "; "))
	if len(rep.Comparisons) > 0 {
		fmt.Fprintln(w, "\n| comparison | ratio of medians | median of round ratios | round ratios |")
		fmt.Fprintln(w, "|---|--:|--:|---|")
		for _, c := range rep.Comparisons {
			rounds := make([]string, len(c.Rounds))
			for i, r := range c.Rounds {
				rounds[i] = fmt.Sprintf("%.3f", r)
			}
			fmt.Fprintf(w, "| %s / %s | %.3fx | %.3fx | %s |\n", c.A, c.B, c.Ratio, c.RoundsMedian, strings.Join(rounds, " "))
		}
	}
	if len(rep.Idle) > 0 {
		fmt.Fprintln(w, "\n| server | idle conns | failed | VmRSS before | VmRSS after | RSS per conn |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|")
		names := make([]string, 0, len(rep.Idle))
		for n := range rep.Idle {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			r := rep.Idle[n]
			fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s |\n", n, r.Conns, r.Failed,
				formatBytes(r.RSSBefore), formatBytes(r.RSSAfter), formatBytes(r.RSSPerConn))
		}
	}
}

// writeJSON writes a report (of run, wsidle or wsrtt) to path as indented JSON.
func writeJSON(path string, rep any) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the JSON report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the JSON report: %w", err)
	}
	return nil
}
