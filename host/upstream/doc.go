// Package upstream is the runtime form of a config.Upstream: a Pool of HTTP
// targets sharing one *http.Transport, a load balancer, active health checks,
// passive ejection and one circuit breaker per target.
//
// The proxy uses a Pool like this:
//
//	key := pool.HashKey(r, clientIP)
//	var tried []*upstream.Target
//	for attempt := 0; ; attempt++ {
//		t, done, err := pool.Pick(key, tried)
//		if err != nil {
//			// *upstream.Unavailable: answer 503 with Retry-After.
//		}
//		resp, err := pool.Transport().RoundTrip(outReq(t))
//		done(status(resp), err) // exactly once per successful Pick
//		tried = append(tried, t)
//		...
//	}
//
// # Picking a target
//
// Pick asks the balancer (round_robin, least_requests, hash or random) for a
// target and skips every target that is
//   - failing active health checks,
//   - ejected by passive health (ConsecutiveFailures failed responses in a row),
//   - refused by its circuit breaker (open, or half-open with all probes taken),
//   - listed in exclude (targets this request already tried). Excluded targets
//     are used again only when no other target can take the request.
//
// When no target can take the request, Pick fails fast with *Unavailable: the
// pool does not "panic-route" to unhealthy targets. The proxy answers 503. If at
// least one otherwise healthy target was refused by its breaker, Reason is
// "circuit open" and RetryAfter is the time until the first breaker half-opens,
// rounded up to whole seconds and at least one second. Otherwise Reason is
// "no healthy targets" and RetryAfter is zero.
//
// # Outcomes
//
// The Done returned by Pick records the outcome of the exchange. For passive
// health a transport error or a 5xx status is a failure. For the breaker a
// transport error, or a status in CircuitBreaker.FailureStatuses (any status
// >= 500 when that list is empty) is a failure. An error that wraps
// context.Canceled (the client went away) is neither a success nor a failure;
// context.DeadlineExceeded (the route timeout) is a failure.
//
// Only this package imports github.com/sony/gobreaker/v2.
package upstream
