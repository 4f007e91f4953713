package gateway

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		exp     string
	}{
		{name: "no trusted proxies ignores xff", remote: "10.1.1.1:5000", xff: []string{"1.2.3.4"}, exp: "10.1.1.1"},
		{name: "untrusted peer ignores xff", remote: "8.8.8.8:5000", xff: []string{"1.2.3.4"}, trusted: trusted, exp: "8.8.8.8"},
		{name: "trusted peer uses xff", remote: "10.1.1.1:5000", xff: []string{"1.2.3.4"}, trusted: trusted, exp: "1.2.3.4"},
		{name: "rightmost untrusted wins", remote: "10.1.1.1:5000", xff: []string{"6.6.6.6, 1.2.3.4, 10.9.9.9"}, trusted: trusted, exp: "1.2.3.4"},
		{name: "several headers", remote: "10.1.1.1:5000", xff: []string{"6.6.6.6", "1.2.3.4"}, trusted: trusted, exp: "1.2.3.4"},
		{name: "all trusted gives leftmost", remote: "10.1.1.1:5000", xff: []string{"10.2.2.2, 10.3.3.3"}, trusted: trusted, exp: "10.2.2.2"},
		{name: "garbage stops the chain", remote: "10.1.1.1:5000", xff: []string{"1.2.3.4, nonsense"}, trusted: trusted, exp: "10.1.1.1"},
		{name: "ipv6 peer", remote: "[::1]:5000", xff: []string{"2001:db8::1"}, trusted: trusted, exp: "2001:db8::1"},
		{name: "ipv4-mapped peer", remote: "[::ffff:8.8.8.8]:1", exp: "8.8.8.8"},
		{name: "not ip:port", remote: "@unix", exp: "@unix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tc.exp, clientIP(r, tc.trusted))
		})
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		keep bool
	}{
		{name: "absent", keep: false},
		{name: "valid", in: []string{"abc-123_x.y:z"}, keep: true},
		{name: "two values", in: []string{"a", "b"}, keep: false},
		{name: "bad chars", in: []string{"a b"}, keep: false},
		{name: "log injection", in: []string{"a\"}\n{"}, keep: false},
		{name: "too long", in: []string{string(make([]byte, 129))}, keep: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{}}
			if tc.in != nil {
				r.Header["X-Request-Id"] = tc.in
			}
			got := requestID(r, "X-Request-Id")
			if tc.keep {
				assert.Equal(t, tc.in[0], got)
				return
			}
			assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, got)
		})
	}
	assert.NotEqual(t, newUUID(), newUUID())
}
