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
