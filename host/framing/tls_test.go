package framing_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/framing"
)

// testCert returns a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "framing test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// startTLSServer serves s behind framing.NewTLSListener with HTTP/1 and
// HTTP/2 enabled, as the package documentation requires.
func startTLSServer(t *testing.T) (*testServer, *x509.CertPool) {
	t.Helper()
	cert, pool := testCert(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	s := startServerWith(t, h1AndH2C(), func(ln net.Listener, opts framing.Options) net.Listener {
		return framing.NewTLSListener(ln, cfg, opts)
	})
	return s, pool
}

func TestTLSClients(t *testing.T) {
	s, pool := startTLSServer(t)
	tests := []struct {
		name      string
		transport *http.Transport
		expProto  string
		expALPN   string
	}{
		{
			name:      "HTTP/2 by ALPN",
			transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
			expProto:  "HTTP/2.0",
			expALPN:   "h2",
		},
		{
			name:      "HTTP/1.1",
			transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}}},
			expProto:  "HTTP/1.1",
			expALPN:   "http/1.1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := &http.Client{Transport: tc.transport, Timeout: ioTimeout}
			t.Cleanup(client.CloseIdleConnections)
			for _, body := range []string{"first", "second"} {
				req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://"+s.addr+"/", strings.NewReader(body))
				require.NoError(t, err)
				resp, err := client.Do(req)
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				require.NoError(t, resp.Body.Close())
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, body, string(got))
				assert.Equal(t, tc.expProto, resp.Header.Get("X-Proto"), "protocol the handler saw")
				assert.Equal(t, tc.expALPN, resp.Header.Get("X-TLS-ALPN"), "TLSState in the handler")
			}
		})
	}
	assert.Empty(t, s.rejectStatuses())
}

func TestTLSFramingAttackRejected(t *testing.T) {
	s, pool := startTLSServer(t)
	tests := []struct {
		name string
		in   string
		exp  []int
	}{
		{
			name: "pipelined request then CL+TE",
			in: "GET / HTTP/1.1\r\nHost: a\r\n\r\n" +
				"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			exp: []int{200, 400},
		},
		{
			name: "duplicate Content-Length",
			in:   "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
			exp:  []int{400},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &net.Dialer{Timeout: ioTimeout}
			c, err := tls.DialWithDialer(d, "tcp", s.addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			require.NoError(t, c.SetDeadline(time.Now().Add(ioTimeout)))
			_, err = io.WriteString(c, tc.in)
			require.NoError(t, err)
			br := bufio.NewReader(c)
			var got []int
			for range tc.exp {
				resp, err := http.ReadResponse(br, nil)
				require.NoError(t, err)
				_, err = io.ReadAll(resp.Body)
				require.NoError(t, err)
				got = append(got, resp.StatusCode)
			}
			assert.Equal(t, tc.exp, got)
			_, err = br.ReadByte()
			assert.Error(t, err, "connection must be closed")
		})
	}
	assert.Equal(t, []int{400, 400}, s.rejectStatuses())
	assert.Equal(t, int64(1), s.calls.Load())
}

func TestTLSHandshakeIsLazyAndBounded(t *testing.T) {
	s, pool := startTLSServer(t)
	// A client that never speaks TLS does not hold up Accept ...
	silent := dial(t, s.addr)
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
		Timeout:   ioTimeout,
	}
	t.Cleanup(client.CloseIdleConnections)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+s.addr+"/", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// ... and is hung up on when Options.HandshakeTimeout (1s) passes,
	// well before the test's own 5s deadline.
	_, err = silent.Read(make([]byte, 1))
	require.Error(t, err)
	var ne net.Error
	if errors.As(err, &ne) {
		assert.False(t, ne.Timeout(), "server must close the connection, not the client time out")
	}
}

func TestTLSStateOnOtherConns(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	st, ok := framing.TLSState(a)
	assert.False(t, ok)
	assert.Nil(t, st)
	st, ok = framing.TLSState(tls.Server(a, &tls.Config{}))
	assert.False(t, ok, "before the handshake")
	assert.Nil(t, st)
}
