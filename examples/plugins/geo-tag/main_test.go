package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

const cfgJSON = `{"networks":{"81.2.69.0/24":"GB","81.2.69.128/25":"IE","2001:db8::/32":"ZZ","10.0.0.0/8":"XX"},"deny":["XX"]}`

func TestGeoTag(t *testing.T) {
	tests := []struct {
		name, ip   string
		expCountry string
		expStatus  int
	}{
		{name: "v4", ip: "81.2.69.1", expCountry: "GB", expStatus: 200},
		{name: "longest prefix wins", ip: "81.2.69.200", expCountry: "IE", expStatus: 200},
		{name: "v6", ip: "2001:db8::1", expCountry: "ZZ", expStatus: 200},
		{name: "v4-mapped v6", ip: "::ffff:81.2.69.1", expCountry: "GB", expStatus: 200},
		{name: "unknown", ip: "192.0.2.1", expStatus: 200},
		{name: "garbage ip", ip: "nope", expStatus: 200},
		{name: "denied", ip: "10.1.2.3", expStatus: 403},
	}
	h := plugintest.New(t, cfgJSON)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := h.Do(&plugintest.Request{ClientIP: tc.ip})
			assert.Equal(t, tc.expStatus, res.Status)
			assert.Equal(t, tc.expCountry, res.Request.Header.Get("X-Country"))
			assert.Equal(t, tc.expCountry, res.Request.Properties["geo.country"])
			assert.Equal(t, tc.expStatus == 403, res.Responded)
			if tc.expStatus == 403 {
				assert.JSONEq(t, `{"message":"Forbidden"}`, string(res.Body))
				assert.False(t, res.UpstreamCalled)
			}
		})
	}
	assert.Equal(t, float64(len(tests)), h.Metrics["geo_tag_lookups_total"])
}

func TestGeoTagBadConfig(t *testing.T) {
	err := plugintest.NewUnconfigured(t, `{"networks":{"10.0.0.0/33":"XX"}}`).Configure()
	require.EqualError(t, err, `networks: "10.0.0.0/33" is not a CIDR prefix like 10.0.0.0/8`)
}
