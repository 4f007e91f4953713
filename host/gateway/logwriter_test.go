package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is an io.Writer safe for the flusher and the test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogWriterKeepsLinesWholeAndInOrder writes from several goroutines and
// checks that every line arrives once, whole, in each writer's order.
func TestLogWriterKeepsLinesWholeAndInOrder(t *testing.T) {
	var out lockedBuffer
	lw := newLogWriter(&out, nil)
	const writers, lines = 4, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				_, err := fmt.Fprintf(lw, `{"w":%d,"i":%d,"pad":%q}`+"\n", w, i, strings.Repeat("x", i%200))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	lw.Close()
	_, err := lw.Write([]byte("{\"after\":true}\n"))
	require.NoError(t, err)

	next := make([]int, writers)
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	n := 0
	for sc.Scan() {
		var m struct{ W, I int }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %d is not whole: %q", n, sc.Text())
		n++
		if n == writers*lines+1 {
			assert.Equal(t, `{"after":true}`, sc.Text(), "a write after Close goes straight through, last")
			continue
		}
		require.Equal(t, next[m.W], m.I, "writer %d's lines out of order", m.W)
		next[m.W]++
	}
	assert.Equal(t, writers*lines+1, n)
	assert.Zero(t, lw.Dropped())
}

// TestLogWriterSlowOutput stands for a log collector that stops reading: the
// writers must not wait for it, lines beyond the pending limit are dropped and
// counted, and once the output reads again it gets every kept line in order
// plus a notice of how many were lost.
func TestLogWriterSlowOutput(t *testing.T) {
	pr, pw := io.Pipe() // nobody reads yet: the flusher's write blocks
	lw := newLogWriter(pw, nil)
	lw.mu.Lock()
	lw.max = 4 << 10
	lw.mu.Unlock()

	const lines = 500 // 500 lines of 64 bytes: far more than 4 KiB
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for i := range lines {
			_, _ = fmt.Fprintf(lw, `{"i":%5d,"pad":%q}`+"\n", i, strings.Repeat("y", 40))
			if i%100 == 0 {
				time.Sleep(flushEvery / 2) // let the flusher take a batch and block on the pipe
			}
		}
	}()
	select {
	case <-wrote:
	case <-time.After(20 * time.Second):
		t.Fatal("Write blocked on an output that does not read")
	}
	require.Positive(t, lw.Dropped(), "lines beyond the pending limit are dropped")

	var got bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.Copy(&got, pr)
	}()
	lw.Close()
	pw.Close()
	<-read

	kept, lost, last := 0, uint64(0), -1
	sc := bufio.NewScanner(&got)
	for sc.Scan() {
		var m struct {
			I       *int
			Msg     string
			Dropped uint64
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		if m.I == nil {
			assert.Equal(t, "log output fell behind; lines dropped", m.Msg)
			lost += m.Dropped
			continue
		}
		assert.Greater(t, *m.I, last, "kept lines stay in order")
		last = *m.I
		kept++
	}
	assert.Equal(t, lw.Dropped(), lost, "the notices count every dropped line")
	assert.Equal(t, lines, kept+int(lost), "every line is either written or counted")
}

func BenchmarkLogWriter(b *testing.B) {
	lw := newLogWriter(io.Discard, nil)
	defer lw.Close()
	line := []byte(`{"time":"2026-12-05T20:00:00.000000000Z","level":"INFO","msg":"request","method":"GET","path":"/hello","status":200,"duration_ms":0.12}` + "\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = lw.Write(line)
		}
	})
}
