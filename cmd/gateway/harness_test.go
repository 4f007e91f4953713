package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gatewayBin is the gateway binary built once for the end-to-end tests.
var gatewayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gateway-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatewayBin = filepath.Join(dir, "gateway")
	args := []string{"build", "-o", gatewayBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gateway:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startTimeout bounds how long a gateway may take to start listening.
const startTimeout = 4 * time.Minute

// proc is a running gateway binary.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	Addr   string // first data-plane listener, host:port
	Admin  string // admin listener, host:port
	Config string // path of the config file it serves
	logMu  sync.Mutex
	logs   bytes.Buffer
	lines  chan map[string]any
	exited chan struct{}
	err    error
}

// startGateway writes cfg (with ${NAME} placeholders replaced from vars) to a
// temp file and runs `gateway run` on it. It returns once the gateway logged
// its listeners. Listen addresses in cfg should use port 0.
func startGateway(t *testing.T, cfg string, vars map[string]string) *proc {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.hcl")
	require.NoError(t, os.WriteFile(path, []byte(expand(cfg, vars)), 0o644))
	return startGatewayFile(t, path)
}

func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

func startGatewayFile(t *testing.T, path string) *proc {
	t.Helper()
	p := &proc{t: t, Config: path, lines: make(chan map[string]any, 1024), exited: make(chan struct{})}
	p.cmd = exec.Command(gatewayBin, "run", "--config", path)
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	p.cmd.Stderr = &lockedWriter{p: p}
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.logMu.Lock()
			p.logs.Write(line)
			p.logs.WriteByte('\n')
			p.logMu.Unlock()
			var m map[string]any
			if json.Unmarshal(line, &m) == nil {
				select {
				case p.lines <- m:
				default: // nobody is reading; the log buffer keeps everything
				}
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	t.Cleanup(func() {
		// A failed test shows what the gateway warned about: plugin faults,
		// timeouts, upstream errors.
		if !t.Failed() {
			return
		}
		for _, line := range strings.Split(p.Logs(), "\n") {
			if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
				t.Logf("gateway: %s", line)
			}
		}
	})
	// Generous: on a machine with a cold cache, a race-enabled gateway compiles
	// every plugin of the config before it listens (wazero's compilation cache
	// makes later starts fast).
	deadline := time.After(startTimeout)
	for p.Addr == "" || p.Admin == "" {
		select {
		case m := <-p.lines:
			switch m["msg"] {
			case "listening":
				if p.Addr == "" {
					p.Addr = m["address"].(string)
				}
			case "admin listening":
				p.Admin = m["address"].(string)
			}
		case <-p.exited:
			t.Fatalf("gateway exited before listening (%v):\n%s", p.err, p.Logs())
		case <-deadline:
			t.Fatalf("gateway did not log its listeners within %s:\n%s", startTimeout, p.Logs())
		}
	}
	return p
}

type lockedWriter struct{ p *proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.logMu.Lock()
	defer w.p.logMu.Unlock()
	return w.p.logs.Write(b)
}

// Logs returns everything the gateway printed so far.
func (p *proc) Logs() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.logs.String()
}

// URL returns the data-plane URL of path.
func (p *proc) URL(path string) string { return "http://" + p.Addr + path }

// AdminURL returns the admin URL of path.
func (p *proc) AdminURL(path string) string { return "http://" + p.Admin + path }

// waitLog waits (bounded) for a log line whose msg is msg.
func (p *proc) waitLog(msg string, within time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-p.lines:
			if m["msg"] == msg {
				return m
			}
		case <-p.exited:
			p.t.Fatalf("gateway exited while waiting for %q (%v):\n%s", msg, p.err, p.Logs())
		case <-deadline:
			p.t.Fatalf("no %q log line within %s:\n%s", msg, within, p.Logs())
		}
	}
}

// signal sends sig to the gateway.
func (p *proc) signal(sig syscall.Signal) {
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

// wait waits (bounded) for the process to exit and returns its exit code.
func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		p.t.Fatalf("gateway did not exit within %s:\n%s", within, p.Logs())
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// get performs a GET and returns status, headers and body.
func get(t *testing.T, c *http.Client, url string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func client() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}
}
