package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is a server process started by `loadbench run`. It runs in its own
// process group so that stop reaches everything it started, and it is killed
// if loadbench itself dies (Pdeathsig).
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	addr    string        // host:port it serves on
	admin   string        // host:port of a gateway's admin listener; "" for other children
	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // set before exited is closed
}

// startChild starts path with args, its stderr (and stdout, unless
// addrFromStdout) going to a log file in logDir. With addrFromStdout it reads
// "listening on ADDR" from the child's first stdout line, within timeout.
func startChild(ctx context.Context, name, path string, args []string, logDir string, addrFromStdout bool, timeout time.Duration) (*child, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: create its log: %w", name, err)
	}
	defer logFile.Close() // the child has its own descriptor once started
	cmd := exec.Command(path, args...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var stdout io.ReadCloser
	if addrFromStdout {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
	} else {
		cmd.Stdout = logFile
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, path, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	if !addrFromStdout {
		return c, nil
	}

	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		line := ""
		if sc.Scan() {
			line = sc.Text()
		}
		addrc <- line
		_, _ = io.Copy(io.Discard, stdout) // never block the child on a full pipe
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line := <-addrc:
		addr, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			c.stop()
			return nil, fmt.Errorf("start %s: first output line %q is not \"listening on ADDR\"; see %s", name, line, logPath)
		}
		c.addr = addr
		return c, nil
	case <-t.C:
		c.stop()
		return nil, fmt.Errorf("start %s: no \"listening on\" line within %s; see %s", name, timeout, logPath)
	case <-ctx.Done():
		c.stop()
		return nil, fmt.Errorf("start %s: %w", name, ctx.Err())
	}
}

// pid returns the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM to the child's process group, then SIGKILL if it has not
// exited within 3 seconds, and waits until it has been reaped. It is safe to
// call more than once.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	pgid := c.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	select {
	case <-c.exited:
	case <-t.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.exited
	}
	// Anything the child started in its group goes too, even if it outlived it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// logTail returns the last lines of the child's log, to explain a failure.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// problems returns the first max WARN and ERROR lines of the child's log
// (the gateway logs JSON) and how many there are in all: why a target had
// non-2xx responses (a plugin timeout, an upstream error) without keeping
// the log directory.
func (c *child) problems(max int) (lines []string, total int) {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return nil, 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if !strings.Contains(line, `"level":"ERROR"`) && !strings.Contains(line, `"level":"WARN"`) {
			continue
		}
		if total++; len(lines) < max {
			lines = append(lines, line)
		}
	}
	return lines, total
}

// waitReady polls url until it answers 200, the child exits, or timeout passes.
// It sends GET, or with a non-nil body a POST of it as application/json.
func (c *child) waitReady(ctx context.Context, url string, body []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := "no answer yet"
	for {
		req, err := newReadyRequest(ctx, url, body)
		if err != nil {
			return fmt.Errorf("%s readiness check: %w", c.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "status " + resp.Status
		} else if ctx.Err() == nil { // keep what the server said before the deadline cut this one off
			last = err.Error()
		}
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited before answering 200 on %s (%v); its log %s ends with:\n%s", c.name, url, c.waitErr, c.logPath, c.logTail())
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s did not answer 200 on %s within %s (last: %s); its log %s ends with:\n%s", c.name, url, timeout, last, c.logPath, c.logTail())
			}
			return fmt.Errorf("%s readiness check: %w", c.name, ctx.Err())
		case <-tick.C:
		}
	}
}

// newReadyRequest returns a GET of url, or with a non-nil body a POST of it as
// application/json.
func newReadyRequest(ctx context.Context, url string, body []byte) (*http.Request, error) {
	if body == nil {
		return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, err
}

// freeAddr returns a loopback host:port that was free a moment ago, for a child
// that must be told its address in advance.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
