package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The names of the two baseline targets every run measures.
const (
	targetDirect    = "direct"    // the backend itself
	targetBareproxy = "bareproxy" // httputil.ReverseProxy in front of the backend
)

// defaultTargets are used when --gateway is given without any --target: the
// built-in template proxies /plain to the backend and answers /mock itself.
func defaultTargets() []string {
	return []string{
		"gateway-proxy=" + builtinPrefix + "gateway.hcl:/plain",
		"gateway-mock=" + builtinPrefix + "gateway.hcl:/mock",
	}
}

// startupTimeout bounds how long each server may take to answer 200.
const startupTimeout = 20 * time.Second

// runOptions are the flags of `loadbench run`.
type runOptions struct {
	Gateway    string
	Targets    []target
	Path       string
	Rounds     int
	Duration   time.Duration
	Warmup     time.Duration
	Conns      int
	Timeout    time.Duration
	UseWrk     bool
	WrkThreads int
	Idle       int
	JSONPath   string
	// Bodies maps a target name (a gateway target, direct or bareproxy) to the
	// body it POSTs; a target without one sends GET.
	Bodies map[string]bodyFile
	// Compare lists target pairs whose req/s ratio is reported round by round.
	Compare []comparePair
}

// comparePair is one --compare A/B.
type comparePair struct{ A, B string }

// targetList collects a repeatable flag (--target, --body).
type targetList []string

func (t *targetList) String() string     { return strings.Join(*t, ",") }
func (t *targetList) Set(v string) error { *t = append(*t, v); return nil }

const runUsage = `usage: loadbench run [--gateway bin/gateway] [--target name=template.hcl[:/path]]...
                    [--body name=FILE]... [flags]

Starts the backend, a bare httputil.ReverseProxy in front of it and, with
--gateway, one gateway process per config template, each in its own process
group. It waits until each answers 200, then runs interleaved rounds of
closed-loop load against the backend directly, the bare proxy and each gateway
target, and prints a markdown table. Every child is killed at the end, on
failure and on SIGINT.

Gateway config templates are HCL files in which ${BACKEND_URL}, ${LISTEN} and
${ADMIN} are replaced by the backend's URL and free loopback addresses; the
gateway is started as "GATEWAY run --config FILE". A template named
builtin:NAME is cmd/loadbench/testdata/NAME compiled into loadbench. Without
--target, --gateway measures ` + "gateway-proxy=builtin:gateway.hcl:/plain" + ` and
` + "gateway-mock=builtin:gateway.hcl:/mock" + `.

Every target sends GET unless --body name=FILE gives it a body: then each of
its requests (the readiness check, the load and the --idle ones too) is a POST
of the file's bytes with Content-Type: application/json. FILE is a path, or
builtin:NAME for cmd/loadbench/testdata/NAME, e.g.
` + "--body validated=builtin:order2k.json" + ` (a 2 KiB order). The name is a --target
name, direct or bareproxy.

--compare A/B reports A's req/s relative to B's: the ratio of their medians
and, because rounds are interleaved, the ratio within each round, whose
median moves less when the machine's speed drifts during the run.

flags:
`

func parseRunFlags(args []string, stderr io.Writer) (*runOptions, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &runOptions{}
	var targets, bodies, compares targetList
	fs.StringVar(&o.Gateway, "gateway", "", "path of the gateway binary; without it only direct and bareproxy are measured")
	fs.Var(&targets, "target", "gateway target name=template.hcl[:/path] (repeatable; path defaults to /)")
	fs.Var(&bodies, "body", "name=FILE: target name POSTs FILE (or builtin:NAME from testdata) as application/json (repeatable)")
	fs.StringVar(&o.Path, "path", "/", "request path (and query) for the direct and bareproxy targets, e.g. /?size=4096")
	fs.IntVar(&o.Rounds, "rounds", 3, "measured rounds per target, interleaved across targets")
	fs.DurationVar(&o.Duration, "duration", 5*time.Second, "length of one measured round")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured load before each round (0 for none)")
	fs.IntVar(&o.Conns, "conns", 64, "concurrent keep-alive connections, one request outstanding on each")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "a request slower than this counts as an error")
	fs.BoolVar(&o.UseWrk, "wrk", false, "generate load with wrk (must be on PATH) instead of the built-in generator")
	fs.IntVar(&o.WrkThreads, "wrk-threads", runtime.NumCPU(), "wrk threads (-t)")
	fs.IntVar(&o.Idle, "idle", 0, "after the load, open this many idle keep-alive connections to bareproxy and each gateway and report RSS per connection")
	fs.StringVar(&o.JSONPath, "json", "", "also write the results as JSON to this file")
	fs.Var(&compares, "compare", "A/B: report target A's req/s relative to target B's, round by round (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(stderr, runUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q; every option is a --flag (see loadbench run -h)", fs.Args())
	}
	if o.Rounds < 1 || o.Duration <= 0 || o.Conns < 1 || o.Warmup < 0 || o.Idle < 0 {
		return nil, errors.New("need --rounds >= 1, --duration > 0, --conns >= 1, --warmup >= 0 and --idle >= 0")
	}
	if !strings.HasPrefix(o.Path, "/") {
		return nil, fmt.Errorf("--path %q must start with /", o.Path)
	}
	if len(targets) == 0 && o.Gateway != "" {
		targets = defaultTargets()
	}
	if len(targets) > 0 && o.Gateway == "" {
		return nil, errors.New("--target needs --gateway PATH (build it with make gateway)")
	}
	seen := map[string]bool{}
	for _, s := range targets {
		t, err := parseTarget(s)
		if err != nil {
			return nil, err
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("--target %q: the name %q is used twice; give each target its own name", s, t.Name)
		}
		seen[t.Name] = true
		o.Targets = append(o.Targets, t)
	}
	names := []string{targetDirect, targetBareproxy}
	for _, t := range o.Targets {
		names = append(names, t.Name)
	}
	var err error
	if o.Bodies, err = parseBodies(bodies, names); err != nil {
		return nil, err
	}
	for _, c := range compares {
		a, b, ok := strings.Cut(c, "/")
		if !ok || !slices.Contains(names, a) || !slices.Contains(names, b) || a == b {
			return nil, fmt.Errorf("--compare %q: want A/B, two different target names among %s", c, strings.Join(names, ", "))
		}
		o.Compare = append(o.Compare, comparePair{A: a, B: b})
	}
	return o, nil
}

// liveTarget is a target with the URL and server process it resolved to.
type liveTarget struct {
	target
	URL    *url.URL
	body   bodyFile // what it POSTs; Data is nil for GET
	script string   // wrk Lua script sending body (--wrk with a body only)
	server *child
	rounds []roundResult
	hist   *Histogram // merged over rounds (built-in generator only)
}

// roundResult is one measured round of one target.
type roundResult struct {
	RPS            float64
	Requests       uint64
	Errors, Non2xx uint64
	P50, P99       time.Duration
	FirstError     string
	Elapsed        time.Duration
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseRunFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadbench run: %v\n", err)
		return 2
	}
	if err := runBench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "loadbench run: %v\n", err)
		return 1
	}
	return 0
}

// runBench starts the servers, measures every target and prints the report.
// Every child is stopped before it returns.
func runBench(ctx context.Context, o *runOptions, stdout, stderr io.Writer) error {
	var wrkPath string
	if o.UseWrk {
		p, err := exec.LookPath("wrk")
		if err != nil {
			return fmt.Errorf("--wrk: %w; install wrk (apt-get install wrk) or drop --wrk to use the built-in generator", err)
		}
		wrkPath = p
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the loadbench binary to start the backend: %w", err)
	}
	logDir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return fmt.Errorf("create a directory for logs and configs: %w", err)
	}
	var children []*child
	var live []*liveTarget
	defer func() {
		for _, c := range slices.Backward(children) {
			c.stop() // a gateway flushes its log as it stops
		}
		printProblems(stderr, live)
		os.RemoveAll(logDir)
	}()

	backend, err := startBackend(ctx, self, logDir)
	if backend != nil {
		children = append(children, backend)
	}
	if err != nil {
		return err
	}
	backendURL := "http://" + backend.addr
	bare, err := startChild(ctx, "bareproxy", self, []string{"bareproxy", "--addr", "127.0.0.1:0", "--upstream", backendURL}, logDir, true, startupTimeout)
	if err != nil {
		return err
	}
	children = append(children, bare)
	if err := bare.waitReady(ctx, "http://"+bare.addr+"/", nil, startupTimeout); err != nil {
		return err
	}

	live = []*liveTarget{
		{target: target{Name: targetDirect, Path: o.Path}, server: backend, URL: mustURL("http://" + backend.addr + o.Path)},
		{target: target{Name: targetBareproxy, Path: o.Path}, server: bare, URL: mustURL("http://" + bare.addr + o.Path)},
	}
	for _, lt := range live {
		lt.body = o.Bodies[lt.Name]
	}
	gateways := map[string]*child{} // one gateway process per template
	for _, t := range o.Targets {
		gw, ok := gateways[t.Template]
		if !ok {
			gw, err = startGateway(ctx, o.Gateway, t.Template, backendURL, logDir, len(gateways))
			if gw != nil {
				children = append(children, gw)
			}
			if err != nil {
				return fmt.Errorf("target %s: %w", t.Name, err)
			}
			gateways[t.Template] = gw
		}
		lt := &liveTarget{target: t, server: gw, URL: mustURL("http://" + gw.addr + t.Path), body: o.Bodies[t.Name]}
		if err := gw.waitReady(ctx, lt.URL.String(), lt.body.Data, startupTimeout); err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
		live = append(live, lt)
	}
	if o.UseWrk {
		for _, lt := range live {
			if lt.body.Data == nil {
				continue
			}
			lt.script = logDir + "/" + lt.Name + ".lua"
			if err := os.WriteFile(lt.script, []byte(wrkPostScript(lt.body.Data)), 0o644); err != nil {
				return fmt.Errorf("target %s: write the wrk script: %w", lt.Name, err)
			}
		}
	}

	generator := "built-in"
	if o.UseWrk {
		generator = fmt.Sprintf("wrk -t%d", max(min(o.WrkThreads, o.Conns), 1))
	}
	fmt.Fprintf(stderr, "loadbench: %d targets, %d rounds x %s (+%s warm-up), %d connections, generator %s, %d CPUs\n",
		len(live), o.Rounds, o.Duration, o.Warmup, o.Conns, generator, runtime.NumCPU())
	for r := range o.Rounds {
		for _, lt := range live {
			if err := measureRound(ctx, o, wrkPath, lt); err != nil {
				return fmt.Errorf("round %d, target %s: %w", r+1, lt.Name, err)
			}
			last := lt.rounds[len(lt.rounds)-1]
			fmt.Fprintf(stderr, "round %d %-16s %10.0f req/s  p50 %-9s p99 %-9s errors %d non-2xx %d\n",
				r+1, lt.Name, last.RPS, fmtDur(last.P50), fmtDur(last.P99), last.Errors, last.Non2xx)
			if last.FirstError != "" {
				fmt.Fprintf(stderr, "  first error: %s\n", last.FirstError)
			}
		}
	}

	rep := buildReport(o, generator, live)
	if o.Idle > 0 {
		rep.Idle = map[string]*idleResult{}
		for _, lt := range live[1:] { // the backend's idle cost is not what is measured
			if _, done := rep.Idle[procKey(lt)]; done {
				continue
			}
			ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			res, err := runIdle(ictx, lt.URL, lt.body.Data, o.Idle, lt.server.pid())
			cancel()
			if err != nil {
				return fmt.Errorf("idle test of %s: %w", lt.Name, err)
			}
			rep.Idle[procKey(lt)] = res
			printIdle(stderr, procKey(lt), res)
		}
	}
	writeMarkdown(stdout, rep)
	if o.JSONPath != "" {
		if err := writeJSON(o.JSONPath, rep); err != nil {
			return err
		}
	}
	return nil
}

// printProblems prints what the gateways behind targets with errors or
// non-2xx responses logged at WARN and ERROR, once per gateway.
func printProblems(w io.Writer, live []*liveTarget) {
	done := map[*child]bool{}
	for _, lt := range live {
		if done[lt.server] || lt.server.admin == "" {
			continue
		}
		bad := false
		for _, r := range lt.rounds {
			bad = bad || r.Errors > 0 || r.Non2xx > 0
		}
		if !bad {
			continue
		}
		done[lt.server] = true
		lines, total := lt.server.problems(5)
		if total == 0 {
			continue
		}
		fmt.Fprintf(w, "loadbench: the gateway of %s logged %d warnings and errors; the first:\n", lt.Template, total)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

// startBackend starts `loadbench backend` (self is the loadbench binary) and
// waits until it answers. The returned child is non-nil whenever a process was
// started, even with an error, so the caller can stop it.
func startBackend(ctx context.Context, self, logDir string) (*child, error) {
	backend, err := startChild(ctx, "backend", self, []string{"backend", "--addr", "127.0.0.1:0"}, logDir, true, startupTimeout)
	if err != nil {
		return nil, err
	}
	return backend, backend.waitReady(ctx, "http://"+backend.addr+"/", nil, startupTimeout)
}

// procKey names the server process of a target: gateway targets sharing a
// template share a process.
func procKey(lt *liveTarget) string {
	if lt.Template == "" {
		return lt.Name
	}
	return lt.server.name
}

// startGateway renders template and starts the gateway on it. The returned
// child is non-nil whenever a process was started, even with an error, so the
// caller can stop it.
func startGateway(ctx context.Context, bin, tmplName, backendURL, logDir string, n int) (*child, error) {
	tmpl, err := readTemplate(tmplName)
	if err != nil {
		return nil, err
	}
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg, err := renderTemplate(tmplName, tmpl, templateVars{BackendURL: backendURL, Listen: listen, Admin: admin})
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("gateway-%d", n+1)
	cfgPath := logDir + "/" + name + ".hcl"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("write the gateway config: %w", err)
	}
	gw, err := startChild(ctx, name, bin, []string{"run", "--config", cfgPath}, logDir, false, startupTimeout)
	if err != nil {
		return nil, err
	}
	gw.addr, gw.admin = listen, admin
	return gw, nil
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(fmt.Sprintf("loadbench: built an unparsable URL %q: %v", s, err))
	}
	return u
}

// measureRound warms lt up, then measures one round and appends it to lt.rounds.
func measureRound(ctx context.Context, o *runOptions, wrkPath string, lt *liveTarget) error {
	if o.UseWrk {
		if o.Warmup > 0 {
			if _, err := runWrk(ctx, wrkPath, lt.URL.String(), lt.script, o.WrkThreads, o.Conns, o.Warmup, o.Timeout); err != nil {
				return err
			}
		}
		w, err := runWrk(ctx, wrkPath, lt.URL.String(), lt.script, o.WrkThreads, o.Conns, o.Duration, o.Timeout)
		if err != nil {
			return err
		}
		lt.rounds = append(lt.rounds, roundResult{
			RPS: w.RPS, Requests: w.Requests, Errors: w.Errors, Non2xx: w.Non2xx,
			P50: w.P50, P99: w.P99, Elapsed: w.Elapsed,
		})
		return nil
	}
	cfg := loadConfig{URL: lt.URL, Body: lt.body.Data, Conns: o.Conns, Duration: o.Warmup, Timeout: o.Timeout}
	if o.Warmup > 0 {
		if _, err := runLoad(ctx, cfg); err != nil {
			return err
		}
	}
	cfg.Duration = o.Duration
	res, err := runLoad(ctx, cfg)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if lt.hist == nil {
		lt.hist = NewHistogram()
	}
	lt.hist.Merge(res.Hist)
	rr := roundResult{
		RPS: res.RPS(), Requests: res.Requests, Errors: res.Errors, Non2xx: res.Non2xx,
		P50: res.Hist.Percentile(50), P99: res.Hist.Percentile(99), Elapsed: res.Elapsed,
	}
	if res.FirstError != nil {
		rr.FirstError = res.FirstError.Error()
	}
	lt.rounds = append(lt.rounds, rr)
	return nil
}
