// Package ratelimit decides whether a request may proceed under a token
// bucket limit, with AWS API Gateway semantics: rate is the steady refill in
// requests per second and burst is the bucket size. A bucket starts full, so
// a new key may send burst requests at once and then rate per second.
//
// Two implementations share the Limiter interface:
//
//   - Local keeps buckets in process memory, sharded by key hash. It is for a
//     single gateway instance or for per-instance limits.
//   - Redis keeps buckets in Redis so several gateway instances enforce one
//     global limit. Each decision is one round trip running a Lua script that
//     reads the clock with TIME on the Redis server, so instances with skewed
//     clocks agree.
//
// Both implement the bucket as GCRA (the generic cell rate algorithm), which
// stores one timestamp per key, the theoretical arrival time (TAT), instead
// of a token count and a refill time. With emission interval T = 1/rate, a
// request at time now is admitted when now >= TAT + T - burst*T, and then
// TAT becomes max(TAT, now) + T. This admits exactly what a token bucket of
// size burst refilled at rate would admit.
//
// Redis errors are returned as errors; WithFallback turns them into a
// fail-open or fail-closed decision. Headers writes the IETF RateLimit
// response headers for a Decision.
package ratelimit
