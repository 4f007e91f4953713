package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"
)

// loadConfig is one closed-loop load run: Conns connections, each with one
// request outstanding at a time, for Duration.
type loadConfig struct {
	URL      *url.URL // http://host:port/path?query
	Body     []byte   // with a body every request is a POST of it as application/json; nil for GET
	Conns    int
	Duration time.Duration
	// Timeout bounds one request (dial, write and read); a request that takes
	// longer counts as an error and its connection is replaced.
	Timeout time.Duration
	// BufferSize is each connection's read buffer; a response header line must
	// fit in it.
	BufferSize int
}

// loadResult is what a load run measured.
type loadResult struct {
	Requests uint64 // responses read completely, whatever their status
	Non2xx   uint64 // responses with a status outside 200-299
	Errors   uint64 // dial, write, read and parse errors
	Reconns  uint64 // connections reopened after Connection: close or an error
	Bytes    int64  // response body bytes
	Elapsed  time.Duration
	Hist     *Histogram
	// FirstError is the first error seen, to explain a non-zero Errors.
	FirstError error
}

// RPS returns completed requests per second.
func (r *loadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// buildRequest returns the bytes of a keep-alive request for u: a GET when
// body is nil, else a POST of body with Content-Type: application/json.
func buildRequest(u *url.URL, body []byte) []byte {
	head := " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: loadbench\r\nAccept: */*\r\n"
	if body == nil {
		return []byte("GET" + head + "\r\n")
	}
	req := []byte("POST" + head + "Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	return append(req, body...)
}

// runLoad drives cfg.Conns connections against cfg.URL until cfg.Duration has
// passed or ctx is done. Requests in flight when the time is up are neither
// counted nor errors, like wrk.
func runLoad(ctx context.Context, cfg loadConfig) (*loadResult, error) {
	if cfg.URL == nil || cfg.URL.Scheme != "http" {
		return nil, fmt.Errorf("load target %v: only http:// URLs are supported", cfg.URL)
	}
	if cfg.Conns <= 0 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("load target %s: need --conns > 0 and a duration > 0 (got %d, %s)", cfg.URL, cfg.Conns, cfg.Duration)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = 32 << 10
	}
	addr := cfg.URL.Host
	if cfg.URL.Port() == "" {
		addr = net.JoinHostPort(cfg.URL.Hostname(), "80")
	}
	req := buildRequest(cfg.URL, cfg.Body)

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	stop, _ := ctx.Deadline()

	workers := make([]*loadWorker, cfg.Conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &loadWorker{addr: addr, req: req, stop: stop, timeout: cfg.Timeout, hist: NewHistogram(), rr: newRespReader(nil, cfg.BufferSize)}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	wg.Wait()
	res := &loadResult{Elapsed: time.Since(start), Hist: NewHistogram()}
	if !time.Now().Before(stop) {
		res.Elapsed = stop.Sub(start)
	}
	for _, w := range workers {
		res.Requests += w.requests
		res.Non2xx += w.non2xx
		res.Errors += w.errors
		res.Reconns += w.reconns
		res.Bytes += w.bytes
		res.Hist.Merge(w.hist)
		if res.FirstError == nil {
			res.FirstError = w.firstErr
		}
	}
	return res, nil
}

// loadWorker owns one connection and its counters; only its goroutine touches it.
type loadWorker struct {
	addr    string
	req     []byte
	stop    time.Time
	timeout time.Duration
	hist    *Histogram
	rr      *respReader

	requests, non2xx, errors, reconns uint64
	bytes                             int64
	firstErr                          error
}

func (w *loadWorker) fail(err error) {
	w.errors++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

// over reports whether the run has ended; an error then is the run being cut
// short, not a failure of the server. The dialer's deadline timer may fire a
// moment before ctx reports it, hence the clock check.
func (w *loadWorker) over(ctx context.Context) bool {
	return ctx.Err() != nil || !time.Now().Before(w.stop)
}

func (w *loadWorker) run(ctx context.Context) {
	var (
		conn   net.Conn
		resp   response
		dialer = net.Dialer{Timeout: w.timeout}
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	// Closing the connection when ctx ends unblocks a read or write in flight.
	var mu sync.Mutex
	done := false
	unblock := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		done = true
		if conn != nil {
			conn.SetDeadline(time.Unix(1, 0))
		}
	})
	defer unblock()
	setConn := func(c net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		conn = c
		return !done
	}

	for ctx.Err() == nil {
		if conn == nil {
			c, err := dialer.DialContext(ctx, "tcp", w.addr)
			if err != nil {
				if w.over(ctx) {
					return
				}
				w.fail(fmt.Errorf("connect to %s: %w", w.addr, err))
				// Back off briefly so a refused port does not spin a core.
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			if !setConn(c) {
				return
			}
			w.rr.reset(c)
		}
		t0 := time.Now()
		deadline := t0.Add(w.timeout)
		if deadline.After(w.stop) {
			// Past the end of the run the in-flight request is dropped, not failed.
			deadline = w.stop.Add(w.timeout)
		}
		conn.SetDeadline(deadline)
		_, err := conn.Write(w.req)
		if err == nil {
			err = w.rr.read(&resp)
		}
		if err != nil {
			if w.over(ctx) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("request to %s: no response within %s: %w", w.addr, w.timeout, err)
			} else {
				err = fmt.Errorf("request to %s: %w", w.addr, err)
			}
			w.fail(err)
			conn.Close()
			setConn(nil)
			w.reconns++
			continue
		}
		w.hist.Record(time.Since(t0))
		w.requests++
		w.bytes += resp.BodyBytes
		if resp.Status < 200 || resp.Status > 299 {
			w.non2xx++
		}
		if resp.Close {
			conn.Close()
			setConn(nil)
			w.reconns++
		}
	}
}
