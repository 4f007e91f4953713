package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// Canonical header names written by Headers (textproto canonical form, so
// they can be used directly as http.Header map keys).
const (
	HeaderLimit      = "Ratelimit-Limit"
	HeaderRemaining  = "Ratelimit-Remaining"
	HeaderReset      = "Ratelimit-Reset"
	HeaderPolicy     = "Ratelimit-Policy"
	HeaderRetryAfter = "Retry-After"
)

// Headers sets the rate limit response headers of
// draft-ietf-httpapi-ratelimit-headers (the RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset and RateLimit-Policy fields of drafts
// 03 to 07) for d, and Retry-After when d denies the request:
//
//	RateLimit-Limit: 100        // d.Limit, the burst
//	RateLimit-Remaining: 0      // d.Remaining
//	RateLimit-Reset: 2          // seconds, rounded up, until a request would
//	                            // be admitted (denied) or the bucket is full (allowed)
//	RateLimit-Policy: 100;w=10  // burst per policyWindow seconds; omitted if policyWindow <= 0
//	Retry-After: 2              // only when denied; at least 1
//
// For a token bucket the natural policyWindow is burst/rate: the time an
// empty bucket takes to refill.
func Headers(h http.Header, d Decision, policyWindow time.Duration) {
	var buf [24]byte
	h[HeaderLimit] = []string{string(strconv.AppendInt(buf[:0], int64(d.Limit), 10))}
	h[HeaderRemaining] = []string{string(strconv.AppendInt(buf[:0], int64(max(d.Remaining, 0)), 10))}
	reset := d.Reset
	if !d.Allowed {
		reset = d.RetryAfter
	}
	h[HeaderReset] = []string{string(strconv.AppendInt(buf[:0], ceilSeconds(reset), 10))}
	if policyWindow > 0 {
		b := strconv.AppendInt(buf[:0], int64(d.Limit), 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, ceilSeconds(policyWindow), 10)
		h[HeaderPolicy] = []string{string(b)}
	}
	if !d.Allowed {
		h[HeaderRetryAfter] = []string{string(strconv.AppendInt(buf[:0], max(ceilSeconds(d.RetryAfter), 1), 10))}
	}
}

// ceilSeconds rounds d up to whole seconds; negative durations become 0.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
