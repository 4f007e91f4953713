package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is the executable Start looks up on PATH.
const Binary = "redis-server"

// readyTimeout bounds how long Start and Restart wait for the server to
// accept connections and answer PING.
const readyTimeout = 10 * time.Second

// Server is one redis-server process bound to a fixed loopback port. The
// port stays the same across Kill and Restart. Its methods are safe for
// concurrent use.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts a redis-server on a free 127.0.0.1 port, waits until it
// answers PING and registers its shutdown with t.Cleanup. It returns the
// server's host:port and a stop function that may be called early; calling
// it more than once is harmless.
func Start(tb testing.TB) (addr string, stop func()) {
	tb.Helper()
	s := NewServer(tb)
	return s.Addr(), s.Stop
}

// NewServer is Start for tests that also need Kill and Restart.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		tb.Skipf("redis-server not installed: apt-get install redis-server (%v)", err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	tb.Cleanup(s.Stop)
	// A free port found by listening on :0 can be taken by someone else
	// before redis binds it; try a few ports before giving up.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: find a free loopback port: %v", err)
		}
		s.port = port
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	tb.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

// Addr is the server's host:port on 127.0.0.1.
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Kill stops the server abruptly (SIGKILL), as a crash would, and waits for
// the process to exit. Open client connections are reset. Killing a stopped
// server does nothing.
func (s *Server) Kill() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

// Restart starts a killed server again on the same port, with an empty
// dataset, and waits until it answers PING. It fails the test if the server
// does not come up.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	s.killLocked()
	s.mu.Unlock()
	if err := s.start(); err != nil {
		s.tb.Fatalf("redistest: restart redis-server on %s: %v", s.Addr(), err)
	}
}

// Stop kills the server. It is registered with t.Cleanup and may also be
// called directly.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

func (s *Server) killLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// start launches redis-server and returns once its log says it is ready and
// it answers PING, or with an error that includes the server's output.
func (s *Server) start() error {
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--loglevel", "notice",
	)
	setProcAttr(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("pipe stdout: %w", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec %s: %w", s.bin, err)
	}

	ready := make(chan struct{})
	done := make(chan struct{})
	var logMu sync.Mutex
	var logTail []string
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if len(logTail) < 50 {
				logTail = append(logTail, line)
			}
			logMu.Unlock()
			if !signalled && strings.Contains(line, "Ready to accept connections") {
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(done)
	}()

	fail := func(why string) error {
		_ = cmd.Process.Kill()
		<-done
		logMu.Lock()
		defer logMu.Unlock()
		return fmt.Errorf("%s on port %d; server output:\n%s", why, s.port, strings.Join(logTail, "\n"))
	}
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-done:
		return fail("redis-server exited before it was ready")
	case <-timer.C:
		return fail(fmt.Sprintf("redis-server not ready after %s", readyTimeout))
	}
	if err := ping(s.Addr()); err != nil {
		return fail(fmt.Sprintf("ping: %v", err))
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	return nil
}

// ping sends an inline PING and expects +PONG, bounded in time.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
