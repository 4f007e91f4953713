package framing_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// h1AndH2C enables HTTP/1 and prior-knowledge HTTP/2 without TLS.
func h1AndH2C() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &p
}

func TestUpgradePassthrough(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.addr)
	// After the upgrade, bytes the guard would refuse in a request are
	// another protocol's payload and must pass unchanged.
	payload := "GET / HTTP/1.1\nContent-Length: 1\r\nContent-Length: 1\r\nTransfer-Encoding: x\r\n\r\n\x00"
	_, err := io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: echo\r\n\r\n"+payload)
	require.NoError(t, err)

	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	got := make([]byte, len(payload))
	_, err = io.ReadFull(br, got)
	require.NoError(t, err)
	assert.Equal(t, payload, string(got))
	assert.Equal(t, int64(1), s.calls.Load())
	assert.Empty(t, s.rejectStatuses())
}

func TestH2CPriorKnowledgePassthrough(t *testing.T) {
	s := startServer(t, h1AndH2C())
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: ioTimeout}
	t.Cleanup(client.CloseIdleConnections)

	for _, body := range []string{"one", "two"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.addr+"/", strings.NewReader(body))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, err)
		assert.Equal(t, 2, resp.ProtoMajor)
		assert.Equal(t, "HTTP/2.0", resp.Header.Get("X-Proto"))
		assert.Equal(t, body, string(got))
	}
	assert.Empty(t, s.rejectStatuses())
}

func TestRejectedRequestWithTrailingDataStillGetsResponse(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.addr)
	// The client sends a body the server never reads before it reads the
	// response; closing with unread data would reset the connection and
	// destroy the response.
	_, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\nContent-Length: 9\r\n\r\n"+
		strings.Repeat("x", 32<<10))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.True(t, resp.Close)
	// The body is delimited by the close, so a reset fails this read.
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), "400 Bad Request")
	assert.Equal(t, int64(0), s.calls.Load())
}
