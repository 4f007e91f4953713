package main

import (
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gone reports whether pid no longer runs (it does not exist or is a zombie).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

func TestChildStopKillsTheProcessGroup(t *testing.T) {
	// The child starts a grandchild that ignores SIGTERM and so outlives it,
	// then reports the grandchild's pid as its "address".
	script := `sh -c "trap '' TERM; exec sleep 60" & echo "listening on $!"; wait`
	c, err := startChild(t.Context(), "sh", "/bin/sh", []string{"-c", script}, t.TempDir(), true, 5*time.Second)
	require.NoError(t, err)
	grandchild, err := strconv.Atoi(c.addr)
	require.NoError(t, err)
	require.False(t, gone(grandchild))

	c.stop()
	select {
	case <-c.exited:
	default:
		t.Fatal("stop returned before the child was reaped")
	}
	// The grandchild got SIGKILL with its group; init reaps it asynchronously.
	assert.Eventually(t, func() bool { return gone(grandchild) }, 5*time.Second, 10*time.Millisecond)
	c.stop() // a second stop is harmless
}

func TestStartChildRejectsAMissingAddressLine(t *testing.T) {
	c, err := startChild(t.Context(), "quiet", "/bin/sh", []string{"-c", "echo hello; echo oops >&2; exec sleep 60"}, t.TempDir(), true, 5*time.Second)
	require.ErrorContains(t, err, `start quiet: first output line "hello" is not "listening on ADDR"; see `)
	assert.Nil(t, c)
}

func TestProcStatus(t *testing.T) {
	rss, err := procStatusKB(os.Getpid(), "VmRSS")
	require.NoError(t, err)
	hwm, err := procStatusKB(os.Getpid(), "VmHWM")
	require.NoError(t, err)
	assert.Positive(t, rss)
	assert.GreaterOrEqual(t, hwm, rss)
	_, err = procStatusKB(os.Getpid(), "NoSuchField")
	require.ErrorContains(t, err, "has no NoSuchField line")
	_, err = procStatusKB(1<<30, "VmRSS")
	require.ErrorContains(t, err, "read VmRSS of process 1073741824")
}

func TestWaitReady(t *testing.T) {
	order, err := readBody(builtinPrefix + "order2k.json")
	require.NoError(t, err)
	srv := httptest.NewServer(postChecker(order.Data))
	defer srv.Close()
	// A child that outlives the checks: waitReady only watches it for an exit.
	c, err := startChild(t.Context(), "srv", "/bin/sleep", []string{"60"}, t.TempDir(), false, time.Second)
	require.NoError(t, err)
	defer c.stop()
	tests := []struct {
		name   string
		body   []byte
		expErr string
	}{
		{name: "POST of the body", body: order.Data},
		{name: "GET", body: nil, expErr: "srv did not answer 200 on " + srv.URL + "/v within 300ms (last: status 400 Bad Request); its log "},
		{name: "another body", body: []byte(`{}`), expErr: "(last: status 400 Bad Request)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.waitReady(t.Context(), srv.URL+"/v", tc.body, 300*time.Millisecond)
			if tc.expErr != "" {
				require.ErrorContains(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestPrintProblems(t *testing.T) {
	dir := t.TempDir()
	log := strings.Join([]string{
		`{"level":"INFO","msg":"listening"}`,
		`{"level":"ERROR","msg":"plugin fault; instance discarded","plugin":"jwt","reason":"timeout"}`,
		`{"level":"WARN","msg":"upstream error"}`,
		`{"level":"ERROR","msg":"third"}`,
		``,
	}, "\n")
	gw := &child{name: "gateway", logPath: dir + "/gw.log", admin: "127.0.0.1:1"}
	require.NoError(t, os.WriteFile(gw.logPath, []byte(log), 0o644))
	quiet := &child{name: "gateway-2", logPath: dir + "/gw2.log", admin: "127.0.0.1:2"}
	require.NoError(t, os.WriteFile(quiet.logPath, []byte(log), 0o644))

	lines, total := gw.problems(2)
	assert.Equal(t, 3, total)
	assert.Equal(t, []string{
		`{"level":"ERROR","msg":"plugin fault; instance discarded","plugin":"jwt","reason":"timeout"}`,
		`{"level":"WARN","msg":"upstream error"}`,
	}, lines)

	var out strings.Builder
	printProblems(&out, []*liveTarget{
		{target: target{Name: "jwt", Template: "builtin:auth.hcl"}, server: gw, rounds: []roundResult{{}, {Non2xx: 2}}},
		{target: target{Name: "key", Template: "builtin:auth.hcl"}, server: gw, rounds: []roundResult{{Errors: 1}}},
		{target: target{Name: "fn", Template: "builtin:function.hcl"}, server: quiet, rounds: []roundResult{{}}},
	})
	assert.Equal(t, 1, strings.Count(out.String(), "loadbench: the gateway of builtin:auth.hcl logged 3 warnings and errors"),
		"once per gateway: %s", out.String())
	assert.Contains(t, out.String(), `"reason":"timeout"`)
	assert.NotContains(t, out.String(), "function.hcl", "a gateway whose targets all answered 2xx is not reported")
}
