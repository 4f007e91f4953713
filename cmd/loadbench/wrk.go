package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run printed.
type wrkResult struct {
	Requests uint64
	Elapsed  time.Duration
	RPS      float64
	P50, P99 time.Duration
	Errors   uint64 // socket errors: connect, read, write and timeout
	Non2xx   uint64 // wrk's "Non-2xx or 3xx responses"
}

// runWrk runs wrk (found on PATH) against url, with the Lua script at
// script unless it is "". wrk takes whole seconds, so d is rounded up to at
// least one second.
func runWrk(ctx context.Context, wrkPath, url, script string, threads, conns int, d, timeout time.Duration) (*wrkResult, error) {
	secs := max(int(math.Ceil(d.Seconds())), 1)
	threads = max(min(threads, conns), 1)
	args := []string{
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", strconv.Itoa(secs) + "s",
		"--timeout", strconv.Itoa(max(int(timeout.Seconds()), 1)) + "s", "--latency",
	}
	if script != "" {
		args = append(args, "-s", script)
	}
	args = append(args, url)
	out, err := exec.CommandContext(ctx, wrkPath, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("run %s %s: %w; output:\n%s", wrkPath, strings.Join(args, " "), err, out)
	}
	res, err := parseWrkOutput(string(out))
	if err != nil {
		return nil, fmt.Errorf("parse the output of wrk %s: %w; output:\n%s", strings.Join(args, " "), err, out)
	}
	return res, nil
}

// wrkPostScript returns a wrk Lua script that makes every request a POST of
// body with Content-Type: application/json (wrk adds the Content-Length).
// Bytes other than printable ASCII, and " and \, are written as \ddd escapes.
func wrkPostScript(body []byte) string {
	var b strings.Builder
	b.WriteString("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = \"")
	for _, c := range body {
		if c >= ' ' && c <= '~' && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteString("\"\n")
	return b.String()
}

// parseWrkOutput reads the summary wrk --latency prints.
func parseWrkOutput(out string) (*wrkResult, error) {
	res := &wrkResult{}
	var haveReqs, haveRPS, have50, have99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("request count %q: %w", f[0], err)
			}
			d, err := time.ParseDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return nil, fmt.Errorf("test duration %q: %w", f[3], err)
			}
			res.Requests, res.Elapsed, haveReqs = n, d, true
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, fmt.Errorf("requests/sec %q: %w", f[1], err)
			}
			res.RPS, haveRPS = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := time.ParseDuration(f[1])
			if err != nil {
				return nil, fmt.Errorf("latency percentile %q: %w", f[1], err)
			}
			if f[0] == "50%" {
				res.P50, have50 = d, true
			} else {
				res.P99, have99 = d, true
			}
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, err := strconv.ParseUint(strings.TrimSuffix(f[i+1], ","), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("socket error count %q: %w", f[i+1], err)
				}
				res.Errors += n
			}
		case len(f) == 5 && strings.Join(f[:4], " ") == "Non-2xx or 3xx responses:":
			n, err := strconv.ParseUint(f[4], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("non-2xx count %q: %w", f[4], err)
			}
			res.Non2xx = n
		}
	}
	if !haveReqs || !haveRPS || !have50 || !have99 {
		return nil, fmt.Errorf("missing the request count, Requests/sec or the 50%%/99%% latency lines (was --latency given?)")
	}
	return res, nil
}
