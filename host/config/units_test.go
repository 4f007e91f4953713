package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in     string
		exp    time.Duration
		expErr bool
	}{
		{in: "250ms", exp: 250 * time.Millisecond},
		{in: "30s", exp: 30 * time.Second},
		{in: "1m", exp: time.Minute},
		{in: "1h30m", exp: 90 * time.Minute},
		{in: "0", exp: 0},
		{in: " 5s ", exp: 5 * time.Second},
		{in: "10x", expErr: true},
		{in: "30", expErr: true},
		{in: "", expErr: true},
		{in: "-1s", expErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseDuration(tc.in)
			if tc.expErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, got)
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in     string
		exp    int64
		expErr string
	}{
		{in: "512", exp: 512},
		{in: "0", exp: 0},
		{in: "64KiB", exp: 64 << 10},
		{in: "10MiB", exp: 10 << 20},
		{in: "1GiB", exp: 1 << 30},
		{in: "2TiB", exp: 2 << 40},
		{in: "1KB", exp: 1000},
		{in: "1kB", exp: 1000},
		{in: "1MB", exp: 1_000_000},
		{in: "1GB", exp: 1_000_000_000},
		{in: "3B", exp: 3},
		{in: "10 MiB", exp: 10 << 20},
		{in: "1XB", expErr: "unknown unit"},
		{in: "MiB", expErr: "no number"},
		{in: "", expErr: "no number"},
		{in: "1.5MiB", expErr: "unknown unit"},
		{in: "-5MiB", expErr: "negative"},
		{in: "9999999TiB", expErr: "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, got)
		})
	}
}

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		in        string
		expParams []string
		expShape  string
		expErr    string
	}{
		{in: "/", expShape: "/"},
		{in: "/users", expShape: "/users"},
		{in: "/users/{id}", expParams: []string{"id"}, expShape: "/users/{}"},
		{in: "/users/{user_id}/orders/{o2}", expParams: []string{"user_id", "o2"}, expShape: "/users/{}/orders/{}"},
		{in: "/files/{proxy+}", expParams: []string{"proxy"}, expShape: "/files/{+}"},
		{in: "/{proxy+}", expParams: []string{"proxy"}, expShape: "/{+}"},
		{in: "users", expErr: `the path "users" must start with "/"`},
		{in: "/a//b", expErr: `the path "/a//b" has an empty segment (a doubled or trailing "/"); remove it`},
		{in: "/a/", expErr: `the path "/a/" has an empty segment (a doubled or trailing "/"); remove it`},
		{in: "/{proxy+}/x", expErr: `the greedy parameter {proxy+} must be the last segment of the path`},
		{in: "/{id}/{id}", expErr: `the parameter {id} appears twice in "/{id}/{id}"; give each parameter its own name`},
		{in: "/{}", expErr: `"{}" is not a valid parameter; names are letters, digits and "_", such as {id} or {proxy+}`},
		{in: "/{1d}", expErr: `"{1d}" is not a valid parameter; names are letters, digits and "_", such as {id} or {proxy+}`},
		{in: "/file-{id}", expErr: `the segment "file-{id}" mixes text and a parameter; a parameter must be a whole segment, such as /users/{id}`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTemplate(tc.in)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expParams, got.params)
			assert.Equal(t, tc.expShape, got.shape)
		})
	}
}

func TestValidHost(t *testing.T) {
	tests := []struct {
		in  string
		exp bool
	}{
		{in: "api.example.com", exp: true},
		{in: "*.example.com", exp: true},
		{in: "localhost", exp: true},
		{in: "a-b.c", exp: true},
		{in: "", exp: false},
		{in: "*", exp: false},
		{in: "a.*.com", exp: false},
		{in: "-a.com", exp: false},
		{in: "api.example.com:8080", exp: false},
		{in: "https://api.example.com", exp: false},
		{in: "a..b", exp: false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.exp, validHost(tc.in))
		})
	}
}
