package upstream

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/wasmgate/gateway/host/config"
)

// Transport settings that the config does not expose.
const (
	tcpKeepAlive          = 30 * time.Second
	defaultConnectTimeout = 10 * time.Second
	expectContinueTimeout = time.Second
)

// newTransport builds the one transport all targets of an upstream share. It
// never uses a proxy from the environment and never asks for compression: the
// gateway passes the client's Accept-Encoding through.
func newTransport(cfg *config.Upstream, anyHTTPS bool) *http.Transport {
	connect := cfg.ConnectTimeout
	if connect <= 0 {
		connect = defaultConnectTimeout
	}
	dialer := &net.Dialer{Timeout: connect, KeepAlive: tcpKeepAlive}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   connect,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: cfg.TLSSkipVerify}, //nolint:gosec // opt-in per upstream
		ForceAttemptHTTP2:     anyHTTPS,
		MaxIdleConns:          0, // no global cap; MaxIdleConnsPerHost bounds each target
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		MaxConnsPerHost:       cfg.MaxConnsPerHost,
		IdleConnTimeout:       cfg.IdleConnTimeout,
		ResponseHeaderTimeout: cfg.ResponseTimeout,
		ExpectContinueTimeout: expectContinueTimeout,
		DisableCompression:    true,
	}
}
