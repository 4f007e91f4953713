package gateway

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers log lines and flushes them at least every flushEvery, so a
// busy gateway does not pay one write system call per access-log line. Close
// flushes what is left. A crash can lose up to flushEvery of lines.
type logWriter struct {
	mu     sync.Mutex
	w      *bufio.Writer
	under  io.Writer
	closer io.Closer // the file we opened, or nil for stdout/stderr
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

const flushEvery = 200 * time.Millisecond

func newLogWriter(w io.Writer, closer io.Closer) *logWriter {
	lw := &logWriter{w: bufio.NewWriterSize(w, 64<<10), under: w, closer: closer, stop: make(chan struct{}), done: make(chan struct{})}
	go lw.loop()
	return lw
}

func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.closed {
		return lw.under.Write(p)
	}
	return lw.w.Write(p)
}

func (lw *logWriter) loop() {
	defer close(lw.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-lw.stop:
			return
		case <-t.C:
			lw.mu.Lock()
			_ = lw.w.Flush()
			lw.mu.Unlock()
		}
	}
}

// Close flushes the buffer and stops the flusher. Later writes go straight through.
func (lw *logWriter) Close() {
	lw.mu.Lock()
	if lw.closed {
		lw.mu.Unlock()
		return
	}
	lw.closed = true
	_ = lw.w.Flush()
	lw.mu.Unlock()
	close(lw.stop)
	<-lw.done
	if lw.closer != nil {
		_ = lw.closer.Close()
	}
}
