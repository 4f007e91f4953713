package gateway

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// logWriter buffers log lines in memory and writes them to the output from
// its own goroutine, so request goroutines never wait for the output: not for
// one write system call per access-log line, and not for a reader that has
// fallen behind (a full pipe to a slow log collector used to block every
// request behind the buffer's lock).
//
// Lines are written at least every flushEvery, and as soon as flushSize bytes
// wait. While the output does not keep up, up to maxPending bytes wait in
// memory; lines beyond that are dropped and counted (Dropped), and the next
// successful flush writes one error line saying how many were lost. Close
// flushes what is left. A crash can lose up to flushEvery of lines.
type logWriter struct {
	under  io.Writer
	closer io.Closer // the file we opened, or nil for stdout/stderr
	max    int       // maxPending, smaller in tests

	mu      sync.Mutex
	buf     []byte // lines waiting for the flusher
	spare   []byte // the flusher's last buffer, reused
	closed  bool
	lost    uint64 // lines dropped since the last notice
	dropped atomic.Uint64

	kick      chan struct{} // a flush is wanted now (buffered, 1)
	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

const (
	flushEvery = 200 * time.Millisecond
	flushSize  = 64 << 10
	maxPending = 16 << 20
	keepSpare  = 1 << 20 // a buffer larger than this is not kept for reuse
)

func newLogWriter(w io.Writer, closer io.Closer) *logWriter {
	lw := &logWriter{
		under: w, closer: closer, max: maxPending,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go lw.loop()
	return lw
}

// Write queues p, which slog hands over as one whole line. It never blocks
// on the output.
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return lw.under.Write(p)
	}
	if len(lw.buf)+len(p) > lw.max {
		lw.lost++
		lw.dropped.Add(1)
		return len(p), nil
	}
	lw.buf = append(lw.buf, p...)
	if len(lw.buf) >= flushSize {
		select {
		case lw.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Dropped returns how many lines were dropped because the output fell more
// than maxPending bytes behind.
func (lw *logWriter) Dropped() uint64 { return lw.dropped.Load() }

func (lw *logWriter) loop() {
	defer close(lw.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-lw.stop:
			return
		case <-t.C:
		case <-lw.kick:
		}
		lw.flush()
	}
}

// flush writes what waits, outside the lock. Only the flusher goroutine
// calls it.
func (lw *logWriter) flush() {
	lw.mu.Lock()
	b, lost := lw.buf, lw.lost
	lw.buf, lw.spare, lw.lost = lw.spare[:0], nil, 0
	lw.mu.Unlock()
	if len(b) > 0 {
		_, _ = lw.under.Write(b)
	}
	if lost > 0 {
		_, _ = fmt.Fprintf(lw.under, `{"time":%q,"level":"ERROR","msg":"log output fell behind; lines dropped","dropped":%d,"hint":"send logs to a faster sink or a file"}`+"\n",
			time.Now().Format(time.RFC3339Nano), lost)
	}
	if cap(b) <= keepSpare {
		lw.mu.Lock()
		lw.spare = b[:0]
		lw.mu.Unlock()
	}
}

// Close stops the flusher and writes what is left. Later writes go straight
// through. It may be called more than once.
func (lw *logWriter) Close() {
	lw.closeOnce.Do(func() {
		close(lw.stop)
		<-lw.done
		lw.flush()
		lw.mu.Lock()
		// Lines queued since that flush go out before any later, direct
		// write.
		lw.closed = true
		if len(lw.buf) > 0 {
			_, _ = lw.under.Write(lw.buf)
			lw.buf = nil
		}
		lw.mu.Unlock()
		if lw.closer != nil {
			_ = lw.closer.Close()
		}
	})
}
