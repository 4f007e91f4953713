package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// idleResult is what opening many idle keep-alive connections cost a server.
type idleResult struct {
	Conns      int   `json:"conns"`        // connections opened and answered
	Failed     int   `json:"failed"`       // connections that could not be opened or answered
	RSSBefore  int64 `json:"rss_before"`   // server VmRSS before, bytes
	RSSAfter   int64 `json:"rss_after"`    // server VmRSS with every connection open and idle
	RSSPerConn int64 `json:"rss_per_conn"` // (after - before) / conns
	// FirstError explains a non-zero Failed.
	FirstError string `json:"first_error,omitempty"`
}

// raiseNoFileLimit raises this process's RLIMIT_NOFILE soft limit to the hard
// limit and returns the new soft limit.
func raiseNoFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raise the open-file limit to %d: %w", lim.Max, err)
		}
	}
	return lim.Cur, nil
}

// runIdle opens conns keep-alive connections to u, sends one request on each
// (a GET, or a POST of body when it is not nil) and reads the response, then measures the VmRSS of the server process pid while
// every connection sits idle. It closes them all before it returns and gives
// up when ctx is done.
func runIdle(ctx context.Context, u *url.URL, body []byte, conns, pid int) (*idleResult, error) {
	if u.Scheme != "http" {
		return nil, fmt.Errorf("idle test against %s: only http:// URLs are supported", u)
	}
	if err := checkNoFileLimit(conns); err != nil {
		return nil, err
	}
	before, err := procStatusKB(pid, "VmRSS")
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	req := buildRequest(u, body)
	opened, failed, firstErr := openMany(ctx, conns, func() openFunc {
		rr := newRespReader(nil, 4<<10)
		var resp response
		d := net.Dialer{Timeout: 5 * time.Second}
		return func(ctx context.Context) (net.Conn, error) { return openIdle(ctx, &d, addr, req, rr, &resp) }
	})
	defer closeAll(opened)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("idle test against %s: stopped while opening connections: %w", u, err)
	}
	// The server has answered every request, so its per-connection state is in place.
	after, err := procStatusKB(pid, "VmRSS")
	if err != nil {
		return nil, err
	}
	res := &idleResult{Conns: conns - failed, Failed: failed, RSSBefore: before, RSSAfter: after}
	if res.Conns > 0 {
		res.RSSPerConn = (after - before) / int64(res.Conns)
	}
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	return res, nil
}

// checkNoFileLimit raises this process's open-file limit to the hard limit and
// fails when conns connections, plus a margin, would not fit under it.
func checkNoFileLimit(conns int) error {
	limit, err := raiseNoFileLimit()
	if err != nil {
		return err
	}
	if uint64(conns)+64 > limit {
		return fmt.Errorf("%d connections need more open files than the limit %d; lower --idle/--conns or raise the hard limit (ulimit -Hn)", conns, limit)
	}
	return nil
}

// openFunc opens one connection and leaves it open.
type openFunc func(ctx context.Context) (net.Conn, error)

// openDialers is how many connections openMany opens at once.
const openDialers = 64

// openMany opens n connections with openDialers goroutines, each calling the
// openFunc that newOpen returned for it (so it can own scratch buffers). It
// returns the connections, nil where opening failed, the number of failures
// and the first error. It stops early when ctx is done.
func openMany(ctx context.Context, n int, newOpen func() openFunc) (opened []net.Conn, failed int, firstErr error) {
	opened = make([]net.Conn, n)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan int)
	)
	for range openDialers {
		open := newOpen()
		wg.Go(func() {
			for i := range next {
				c, err := open(ctx)
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
				} else {
					opened[i] = c
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return opened, failed, firstErr
}

// closeAll closes every non-nil connection.
func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// openIdle dials addr, sends req and reads one complete response, leaving the
// connection open.
func openIdle(ctx context.Context, d *net.Dialer, addr string, req []byte, rr *respReader, resp *response) (net.Conn, error) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	rr.reset(c)
	if _, err = c.Write(req); err == nil {
		err = rr.read(resp)
	}
	switch {
	case err != nil:
	case resp.Close:
		err = errors.New("the server closed the connection after the response; it cannot be kept idle")
	case resp.Status < 200 || resp.Status > 299:
		err = fmt.Errorf("status %d", resp.Status)
	case rr.start != rr.end:
		err = errors.New("unexpected bytes after the response")
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("request to %s: %w", addr, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

func printIdle(w io.Writer, name string, r *idleResult) {
	fmt.Fprintf(w, "idle %s: %d keep-alive connections open (%d failed): server VmRSS %s -> %s, %s per connection\n",
		name, r.Conns, r.Failed, formatBytes(r.RSSBefore), formatBytes(r.RSSAfter), formatBytes(r.RSSPerConn))
	if r.FirstError != "" {
		fmt.Fprintf(w, "idle %s: first failure: %s\n", name, r.FirstError)
	}
}

func cmdIdle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conns := fs.Int("conns", 10000, "keep-alive connections to open and keep idle")
	rawURL := fs.String("url", "", "http:// URL to send the one request per connection to (required)")
	pid := fs.Int("pid", 0, "process id of the server, whose VmRSS is measured (required)")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: loadbench idle --url URL --pid PID [--conns 10000]\n\n"+
			"Opens N keep-alive connections, one request each, and reports the server's VmRSS per idle connection.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	u, err := url.Parse(*rawURL)
	if err != nil || *pid <= 0 || *conns <= 0 {
		fmt.Fprintln(stderr, "loadbench idle: need --url http://HOST:PORT/path, --pid of the server and --conns > 0")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := runIdle(ctx, u, nil, *conns, *pid)
	if err != nil {
		fmt.Fprintf(stderr, "loadbench idle: %v\n", err)
		return 1
	}
	printIdle(stdout, u.String(), res)
	return 0
}
