package cache

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCacheable(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	const date = "Mon, 01 Jan 2024 00:00:00 GMT"
	tests := []struct {
		name   string
		policy Policy
		req    http.Header
		resp   http.Header
		status int
		expTTL time.Duration
		expOK  bool
	}{
		{"plain 200", Policy{}, h(), h(), 200, 0, true},
		{"404 not by default", Policy{}, h(), h(), 404, 0, false},
		{"206 not by default", Policy{}, h(), h(), 206, 0, false},
		{"configured 404", Policy{Statuses: []int{200, 404}}, h(), h(), 404, 0, true},
		{"configured list excludes 200", Policy{Statuses: []int{301}}, h(), h(), 200, 0, false},
		{"max-age", Policy{}, h(), h("Cache-Control", "public, max-age=60"), 200, time.Minute, true},
		{"s-maxage wins over max-age", Policy{}, h(), h("Cache-Control", "max-age=60, s-maxage=30"), 200, 30 * time.Second, true},
		{"directive case and quotes", Policy{}, h(), h("Cache-Control", `Max-Age="60"`), 200, time.Minute, true},
		{"several field lines", Policy{}, h(), h("Cache-Control", "public", "Cache-Control", "max-age=5"), 200, 5 * time.Second, true},
		{"age is subtracted", Policy{}, h(), h("Cache-Control", "max-age=60", "Age", "20"), 200, 40 * time.Second, true},
		{"older than max-age", Policy{}, h(), h("Cache-Control", "max-age=60", "Age", "60"), 200, 0, false},
		{"max-age=0", Policy{}, h(), h("Cache-Control", "max-age=0"), 200, 0, false},
		{"invalid max-age", Policy{}, h(), h("Cache-Control", "max-age=soon"), 200, 0, false},
		{"negative max-age", Policy{}, h(), h("Cache-Control", "max-age=-1"), 200, 0, false},
		{"no-store response", Policy{}, h(), h("Cache-Control", "no-store"), 200, 0, false},
		{"private response", Policy{}, h(), h("Cache-Control", "private, max-age=60"), 200, 0, false},
		{"no-cache response", Policy{}, h(), h("Cache-Control", "no-cache"), 200, 0, false},
		{"no-store request", Policy{}, h("Cache-Control", "no-store"), h(), 200, 0, false},
		{"no-cache request may still be stored", Policy{}, h("Cache-Control", "no-cache"), h(), 200, 0, true},
		{"set-cookie", Policy{}, h(), h("Set-Cookie", "sid=1"), 200, 0, false},
		{"vary star", Policy{}, h(), h("Vary", "Accept, *"), 200, 0, false},
		{"vary field", Policy{}, h(), h("Vary", "Accept"), 200, 0, true},
		{"authorization", Policy{}, h("Authorization", "Bearer x"), h(), 200, 0, false},
		{"authorization with public", Policy{}, h("Authorization", "Bearer x"), h("Cache-Control", "public"), 200, 0, true},
		{"authorization with s-maxage", Policy{}, h("Authorization", "Bearer x"), h("Cache-Control", "s-maxage=9"), 200, 9 * time.Second, true},
		{"authorization with must-revalidate", Policy{}, h("Authorization", "Bearer x"), h("Cache-Control", "must-revalidate"), 200, 0, true},
		{"expires", Policy{}, h(), h("Date", date, "Expires", "Mon, 01 Jan 2024 00:02:00 GMT"), 200, 2 * time.Minute, true},
		{"expires in the past", Policy{}, h(), h("Date", date, "Expires", "Sun, 31 Dec 2023 00:00:00 GMT"), 200, 0, false},
		{"invalid expires", Policy{}, h(), h("Date", date, "Expires", "0"), 200, 0, false},
		{"expires without date", Policy{}, h(), h("Expires", "Mon, 01 Jan 2024 00:02:00 GMT"), 200, 0, false},
		{"max-age beats expires", Policy{}, h(), h("Cache-Control", "max-age=1", "Date", date, "Expires", "Sun, 31 Dec 2023 00:00:00 GMT"), 200, time.Second, true},
		{"huge max-age saturates", Policy{}, h(), h("Cache-Control", "max-age=99999999999999999999"), 200, time.Duration(1<<63 - 1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ttl, ok := tc.policy.Cacheable(tc.req, tc.resp, tc.status)
			assert.Equal(t, tc.expOK, ok)
			assert.Equal(t, tc.expTTL, ttl)
			if len(tc.policy.Statuses) == 0 {
				ttl2, ok2 := Cacheable(tc.req, tc.resp, tc.status)
				assert.Equal(t, tc.expOK, ok2)
				assert.Equal(t, tc.expTTL, ttl2)
			}
		})
	}
}
