package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file reads what a gateway's admin listener tells about the process:
// Prometheus samples from /metrics, and the heap and goroutine profiles of
// /debug/pprof in their debug=1 text form.

// adminGet fetches path (with its query) from the admin listener at addr.
func adminGet(ctx context.Context, addr, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	u := "http://" + addr + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("admin request %s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin request %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("admin request %s: read the answer: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin request %s: status %s: %.200s", u, resp.Status, b)
	}
	return b, nil
}

// metricValue returns the sum of the samples of metric name, in Prometheus
// text format, whose labels include every pair of match; ok is false when no
// sample matched.
func metricValue(text []byte, name string, match map[string]string) (v float64, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		rest, found := strings.CutPrefix(l, name)
		if !found || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a comment, another metric, or one whose name only starts with name
		}
		labels := map[string]string{}
		if rest[0] == '{' {
			var err error
			if labels, rest, err = parseLabels(rest); err != nil {
				continue
			}
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		x, err := strconv.ParseFloat(f[0], 64)
		if err != nil || !labelsMatch(labels, match) {
			continue
		}
		v += x
		ok = true
	}
	return v, ok
}

// parseLabels parses a {name="value",...} label set at the start of s and
// returns the labels and what follows the closing brace.
func parseLabels(s string) (map[string]string, string, error) {
	labels := map[string]string{}
	s = s[1:] // {
	for {
		s = strings.TrimLeft(s, " ,")
		if rest, ok := strings.CutPrefix(s, "}"); ok {
			return labels, rest, nil
		}
		name, rest, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return nil, "", fmt.Errorf("malformed label set near %q", s)
		}
		var value strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				c = rest[i]
				if c == 'n' {
					c = '\n'
				}
			}
			value.WriteByte(c)
		}
		if i == len(rest) {
			return nil, "", fmt.Errorf("unterminated label value near %q", s)
		}
		labels[strings.TrimSpace(name)] = value.String()
		s = rest[i+1:]
	}
}

func labelsMatch(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// profileRecord is one stack of a debug=1 text profile.
type profileRecord struct {
	// Count is the number of goroutines, or of in-use objects (scaled for
	// sampling in a heap profile).
	Count float64
	// Bytes is the in-use bytes, scaled for sampling; 0 in goroutine profiles.
	Bytes float64
	// Frames are the function names, innermost first, without the runtime
	// frames the profile itself leaves out.
	Frames []string
}

// heapProfile is /debug/pprof/heap?debug=1: the in-use part of the heap
// profile and the runtime.MemStats the runtime appends to it.
type heapProfile struct {
	// Rate is the sampling rate in bytes (runtime.MemProfileRate); 1 means
	// every allocation was recorded.
	Rate    int64
	Records []profileRecord
	// MemStats holds the integer fields of runtime.MemStats by name; a
	// "Stack = inuse / sys" line gives StackInuse and StackSys.
	MemStats map[string]int64
}

// parseHeapProfile parses /debug/pprof/heap?debug=1. In-use counts are scaled
// for sampling the way pprof scales a legacy heap profile: a record of count
// objects totalling size bytes, sampled at rate, stands for
// count/(1-exp(-(size/count)/rate)) objects.
func parseHeapProfile(b []byte) (*heapProfile, error) {
	p := &heapProfile{MemStats: map[string]int64{}}
	lines := strings.Split(string(b), "\n")
	header := lines[0]
	i := strings.LastIndex(header, "@ heap/")
	if !strings.HasPrefix(header, "heap profile: ") || i < 0 {
		return nil, fmt.Errorf("not a debug=1 heap profile: first line %q", header)
	}
	period, err := strconv.ParseInt(header[i+len("@ heap/"):], 10, 64)
	if err != nil || period < 0 {
		return nil, fmt.Errorf("heap profile header %q: bad sampling period", header)
	}
	p.Rate = max(period/2, 1) // the header gives 2*MemProfileRate
	p.Records, err = parseStacks(lines[1:], func(l string) (profileRecord, error) {
		// inuse_objects: inuse_bytes [alloc_objects: alloc_bytes] @ pc...
		var objs, size int64
		if _, err := fmt.Sscanf(l, "%d: %d ", &objs, &size); err != nil {
			return profileRecord{}, fmt.Errorf("heap profile record %q: %w", l, err)
		}
		r := profileRecord{}
		r.Count, r.Bytes = scaleHeapSample(objs, size, p.Rate)
		return r, nil
	}, func(l string) { parseMemStat(l, p.MemStats) })
	if err != nil {
		return nil, err
	}
	return p, nil
}

// parseStacks parses the records of a debug=1 text profile: a line with
// " @ " that record parses, then the record's "#\tPC\tFUNC+OFF\tFILE:LINE"
// frame lines. Other "# " lines go to comment, except the "# labels: "
// of a record.
func parseStacks(lines []string, record func(string) (profileRecord, error), comment func(string)) ([]profileRecord, error) {
	var recs []profileRecord
	var cur *profileRecord
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "#\t"):
			if cur != nil {
				if fn := frameFunc(l); fn != "" {
					cur.Frames = append(cur.Frames, fn)
				}
			}
		case strings.HasPrefix(l, "# labels: "):
			// pprof labels of the record above; its frames follow
		case strings.HasPrefix(l, "# "):
			cur = nil
			comment(l)
		case strings.Contains(l, " @ "):
			r, err := record(l)
			if err != nil {
				return nil, err
			}
			recs = append(recs, r)
			cur = &recs[len(recs)-1]
		default:
			cur = nil // the blank line between records
		}
	}
	return recs, nil
}

// scaleHeapSample undoes heap profile sampling; see parseHeapProfile.
func scaleHeapSample(count, size, rate int64) (float64, float64) {
	if count == 0 || size == 0 {
		return 0, 0
	}
	if rate <= 1 {
		return float64(count), float64(size)
	}
	avg := float64(size) / float64(count)
	scale := 1 / (1 - math.Exp(-avg/float64(rate)))
	return float64(count) * scale, float64(size) * scale
}

// parseMemStat records a "# Name = 123" or "# Name = inuse / sys" line.
func parseMemStat(l string, into map[string]int64) {
	name, value, ok := strings.Cut(strings.TrimPrefix(l, "# "), " = ")
	if !ok {
		return
	}
	if inuse, sys, ok := strings.Cut(value, " / "); ok {
		a, err1 := strconv.ParseInt(inuse, 10, 64)
		b, err2 := strconv.ParseInt(sys, 10, 64)
		if err1 == nil && err2 == nil {
			into[name+"Inuse"], into[name+"Sys"] = a, b
		}
		return
	}
	if v, err := strconv.ParseInt(value, 10, 64); err == nil {
		into[name] = v
	}
}

// frameFunc returns the function of a "#\tPC\tFUNC+OFF\tFILE:LINE" frame line.
func frameFunc(l string) string {
	f := strings.Split(l, "\t")
	if len(f) < 3 {
		return ""
	}
	fn, _, _ := strings.Cut(f[2], "+0x")
	return fn
}

// parseGoroutineProfile parses /debug/pprof/goroutine?debug=1: the total and
// one record per distinct stack.
func parseGoroutineProfile(b []byte) (int, []profileRecord, error) {
	lines := strings.Split(string(b), "\n")
	var total int
	if _, err := fmt.Sscanf(lines[0], "goroutine profile: total %d", &total); err != nil {
		return 0, nil, fmt.Errorf("not a debug=1 goroutine profile: first line %q", lines[0])
	}
	recs, err := parseStacks(lines[1:], func(l string) (profileRecord, error) {
		var n int64
		if _, err := fmt.Sscanf(l, "%d @", &n); err != nil {
			return profileRecord{}, fmt.Errorf("goroutine profile record %q: %w", l, err)
		}
		return profileRecord{Count: float64(n)}, nil
	}, func(string) {})
	return total, recs, err
}

// shortFunc drops the import path from a function name:
// "github.com/coder/websocket.(*Conn).Read" → "websocket.(*Conn).Read".
func shortFunc(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		return fn[i+1:]
	}
	return fn
}

// siteCost is what one allocation site or goroutine kind costs per connection.
type siteCost struct {
	Site    string  `json:"site"`
	PerConn float64 `json:"per_conn"` // bytes (heap sites) or goroutines
}

// heapSiteFrames is how many innermost frames name an allocation site.
const heapSiteFrames = 3

// runtimeAllocators are the runtime's allocation entry points, which a heap
// record shows when every frame is in the runtime (a goroutine's g from
// runtime.malg): they name no site.
var runtimeAllocators = []string{"runtime.mallocgc", "runtime.newobject", "runtime.newarray", "runtime.makeslice", "runtime.growslice", "runtime.makemap"}

// heapSite names a heap record by its innermost frames, "leaf ← caller ←
// caller", after the runtime's allocation entry points.
func heapSite(r profileRecord) string {
	f := r.Frames
	for len(f) > 1 && slices.ContainsFunc(runtimeAllocators, func(a string) bool { return strings.HasPrefix(f[0], a) }) {
		f = f[1:]
	}
	if len(f) == 0 {
		return "?"
	}
	f = f[:min(len(f), heapSiteFrames)]
	s := make([]string, len(f))
	for i, fn := range f {
		s[i] = shortFunc(fn)
	}
	return strings.Join(s, " ← ")
}

// goroutineSite names a goroutine record by the function it started in.
func goroutineSite(r profileRecord) string {
	if len(r.Frames) == 0 {
		return "?"
	}
	return shortFunc(r.Frames[len(r.Frames)-1])
}

// costPerConn groups the records of two profiles of one process by site and
// returns each site's growth from before to after, divided by conns, largest
// first: the top n sites that grew by at least least per connection. value
// picks what is counted.
func costPerConn(before, after []profileRecord, site func(profileRecord) string, value func(profileRecord) float64, conns, n int, least float64) []siteCost {
	if conns <= 0 {
		return nil
	}
	delta := map[string]float64{}
	for _, r := range after {
		delta[site(r)] += value(r)
	}
	for _, r := range before {
		delta[site(r)] -= value(r)
	}
	var out []siteCost
	for s, d := range delta {
		if pc := d / float64(conns); pc >= least && pc > 0 {
			out = append(out, siteCost{Site: s, PerConn: pc})
		}
	}
	slices.SortFunc(out, func(a, b siteCost) int {
		if c := cmp.Compare(b.PerConn, a.PerConn); c != 0 {
			return c
		}
		return strings.Compare(a.Site, b.Site)
	})
	return out[:min(len(out), n)]
}
