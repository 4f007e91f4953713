package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

func TestIPRestriction(t *testing.T) {
	const cfg = `{
		"allow": ["10.0.0.0/8", "192.0.2.10", "2001:db8::/32", "198.51.100.0/24", "198.51.101.0/24"],
		"deny":  ["10.66.0.0/16", "2001:db8:bad::/48", "10.0.0.1"]
	}`
	tests := []struct {
		name, ip string
		expAllow bool
	}{
		{name: "in allow v4", ip: "10.1.2.3", expAllow: true},
		{name: "first address of allow prefix", ip: "10.0.0.0", expAllow: true},
		{name: "last address of allow prefix", ip: "10.255.255.255", expAllow: true},
		{name: "just below allow prefix", ip: "9.255.255.255"},
		{name: "just above allow prefix", ip: "11.0.0.0"},
		{name: "deny inside allow wins", ip: "10.66.1.1"},
		{name: "deny edge low", ip: "10.66.0.0"},
		{name: "deny edge high", ip: "10.66.255.255"},
		{name: "just outside deny", ip: "10.67.0.0", expAllow: true},
		{name: "single denied address", ip: "10.0.0.1"},
		{name: "single denied address neighbour", ip: "10.0.0.2", expAllow: true},
		{name: "single allowed address", ip: "192.0.2.10", expAllow: true},
		{name: "single allowed address neighbour", ip: "192.0.2.11"},
		{name: "adjacent merged prefixes", ip: "198.51.101.255", expAllow: true},
		{name: "after merged prefixes", ip: "198.51.102.0"},
		{name: "v6 allowed", ip: "2001:db8:1::1", expAllow: true},
		{name: "v6 denied inside allow", ip: "2001:db8:bad::1"},
		{name: "v6 outside", ip: "2001:db9::1"},
		{name: "v4-mapped v6 of allowed v4", ip: "::ffff:10.1.2.3", expAllow: true},
		{name: "v4-mapped v6 of denied v4", ip: "::ffff:10.66.0.1"},
		{name: "v6 with zone", ip: "2001:db8::1%eth0", expAllow: true},
		{name: "loopback not listed", ip: "127.0.0.1"},
		{name: "v6 loopback not listed", ip: "::1"},
		{name: "empty ip fails closed", ip: ""},
		{name: "garbage ip fails closed", ip: "10.1.2.3.evil"},
		{name: "ip with port is not an ip", ip: "10.1.2.3:80"},
	}
	h := plugintest.New(t, cfg)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(&plugintest.Request{ClientIP: tc.ip})
			assert.Equal(t, tc.expAllow, res.UpstreamCalled)
			if !tc.expAllow {
				assert.Equal(t, 403, res.Status)
				assert.JSONEq(t, `{"message":"Forbidden"}`, string(res.Body))
			}
		})
	}
}

func TestIPRestrictionIgnoresForwardedFor(t *testing.T) {
	h := plugintest.New(t, `{"allow":["10.0.0.0/8"]}`)
	res := h.Do(&plugintest.Request{
		ClientIP: "203.0.113.9",
		Header:   map[string][]string{"X-Forwarded-For": {"10.1.1.1"}, "X-Real-Ip": {"10.1.1.1"}},
	})
	assert.False(t, res.UpstreamCalled, "the gateway's client ip decides, not a header the client sent")
	assert.Equal(t, 403, res.Status)
	require.NotEmpty(t, h.Logs)
	assert.Equal(t, "ip-restriction: client ip 203.0.113.9 is not in the allow list", h.Logs[len(h.Logs)-1].Message)
}

func TestIPRestrictionDenyOnly(t *testing.T) {
	h := plugintest.New(t, `{"deny":["0.0.0.0/0"]}`)
	assert.False(t, h.Do(&plugintest.Request{ClientIP: "8.8.8.8"}).UpstreamCalled)
	assert.False(t, h.Do(&plugintest.Request{ClientIP: "::ffff:8.8.8.8"}).UpstreamCalled, "v4-mapped form is still v4")
	assert.True(t, h.Do(&plugintest.Request{ClientIP: "2001:db8::1"}).UpstreamCalled, "0.0.0.0/0 is IPv4 only")
}

func TestIPRestrictionAllV6(t *testing.T) {
	h := plugintest.New(t, `{"deny":["::/0"]}`)
	assert.False(t, h.Do(&plugintest.Request{ClientIP: "2001:db8::1"}).UpstreamCalled)
	assert.False(t, h.Do(&plugintest.Request{ClientIP: "10.0.0.1"}).UpstreamCalled, "::/0 covers the v4-mapped space too")
}

func TestIPRestrictionConfig(t *testing.T) {
	tests := []struct{ name, in, expErr string }{
		{name: "empty", in: `{}`, expErr: `set at least one prefix in allow or deny, e.g. allow = ["10.0.0.0/8"]`},
		{name: "bad prefix length", in: `{"allow":["10.0.0.0/33"]}`, expErr: `allow[0]: "10.0.0.0/33" is not an IP address or CIDR prefix like 10.0.0.0/8 or 2001:db8::/32`},
		{name: "hostname", in: `{"deny":["10.0.0.0/8","example.com"]}`, expErr: `deny[1]: "example.com" is not an IP address or CIDR prefix like 10.0.0.0/8 or 2001:db8::/32`},
		{name: "zone", in: `{"deny":["fe80::1%eth0"]}`, expErr: `deny[0]: "fe80::1%eth0" is not an IP address or CIDR prefix like 10.0.0.0/8 or 2001:db8::/32`},
		{name: "unknown field", in: `{"allowed":["10.0.0.0/8"]}`, expErr: `decode config: json: unknown field "allowed"`},
		{name: "host bits masked", in: `{"allow":["10.0.0.1/8"]}`},
		{name: "v6", in: `{"allow":["2001:db8::/32","::1"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugintest.NewUnconfigured(t, tc.in).Configure()
			if tc.expErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.expErr)
		})
	}
}

func TestCompileMerges(t *testing.T) {
	rs, err := compile("allow", []string{"10.0.0.0/9", "10.128.0.0/9", "10.1.0.0/16", "192.0.2.1", "192.0.2.2", "192.0.2.4"})
	require.NoError(t, err)
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s-%s", r.lo.Unmap(), r.hi.Unmap()))
	}
	assert.Equal(t, []string{"10.0.0.0-10.255.255.255", "192.0.2.1-192.0.2.2", "192.0.2.4-192.0.2.4"}, got)

	rs, err = compile("deny", []string{"::/0", "10.0.0.0/8"})
	require.NoError(t, err)
	assert.Len(t, rs, 1, "everything merges into ::/0")
}
