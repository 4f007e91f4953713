package ratelimit

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestHeaders(t *testing.T) {
	tests := []struct {
		name   string
		in     Decision
		window time.Duration
		exp    http.Header
	}{
		{
			name:   "allowed",
			in:     Decision{Allowed: true, Limit: 100, Remaining: 42, Reset: 5800 * time.Millisecond},
			window: 10 * time.Second,
			exp: http.Header{
				"Ratelimit-Limit":     {"100"},
				"Ratelimit-Remaining": {"42"},
				"Ratelimit-Reset":     {"6"},
				"Ratelimit-Policy":    {"100;w=10"},
			},
		},
		{
			name:   "denied uses retry after for reset",
			in:     Decision{Limit: 5, RetryAfter: 1500 * time.Millisecond, Reset: 9 * time.Second},
			window: 500 * time.Millisecond,
			exp: http.Header{
				"Ratelimit-Limit":     {"5"},
				"Ratelimit-Remaining": {"0"},
				"Ratelimit-Reset":     {"2"},
				"Ratelimit-Policy":    {"5;w=1"},
				"Retry-After":         {"2"},
			},
		},
		{
			name: "denied with sub-second wait still says retry after 1",
			in:   Decision{Limit: 5, RetryAfter: time.Microsecond},
			exp: http.Header{
				"Ratelimit-Limit":     {"5"},
				"Ratelimit-Remaining": {"0"},
				"Ratelimit-Reset":     {"1"},
				"Retry-After":         {"1"},
			},
		},
		{
			name: "no window omits policy",
			in:   Decision{Allowed: true, Limit: 1, Remaining: 0, Reset: 0},
			exp: http.Header{
				"Ratelimit-Limit":     {"1"},
				"Ratelimit-Remaining": {"0"},
				"Ratelimit-Reset":     {"0"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			Headers(h, tc.in, tc.window)
			assert.Equal(t, tc.exp, h)
			// The names are canonical, so Get finds them.
			assert.Equal(t, tc.exp["Ratelimit-Limit"][0], h.Get("RateLimit-Limit"))
		})
	}
}
