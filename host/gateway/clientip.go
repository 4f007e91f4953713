package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the address of the client. The TCP peer is the client unless
// it is one of the trusted proxies; then X-Forwarded-For is read from the right,
// skipping trusted proxies, and the first untrusted address is the client.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := r.RemoteAddr
	ap, err := netip.ParseAddrPort(peer)
	if err != nil {
		// Not ip:port (e.g. a unix socket or a test); use it as it is.
		return peer
	}
	addr := ap.Addr().Unmap()
	if len(trusted) == 0 || !isTrusted(addr, trusted) {
		return addr.String()
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		list := xff[i]
		for list != "" {
			var item string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				item, list = list[j+1:], list[:j]
			} else {
				item, list = list, ""
			}
			a, err := netip.ParseAddr(strings.TrimSpace(item))
			if err != nil {
				// A garbled entry: stop believing the chain here.
				return addr.String()
			}
			a = a.Unmap()
			addr = a
			if !isTrusted(a, trusted) {
				return a.String()
			}
		}
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// maxRequestIDLen bounds a client-supplied request id.
const maxRequestIDLen = 128

// requestID returns the client's request id when it is a sane token, or a new
// random UUID (version 4).
func requestID(r *http.Request, header string) string {
	if v := r.Header[header]; len(v) == 1 && validRequestID(v[0]) {
		return v[0]
	}
	return newUUID()
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
