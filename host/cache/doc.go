// Package cache stores whole HTTP responses for the gateway's response
// cache, in the manner of AWS API Gateway stage caching: responses are keyed
// by route, method and a chosen set of query parameters and headers, and
// live for a TTL.
//
// Key builds the cache key, Cacheable applies the HTTP caching rules that
// decide whether a response may be stored and for how long, and a Store
// keeps entries: Memory is a byte-capped LRU in process memory, Redis shares
// one cache between gateway instances.
//
// Stores hand out and keep *Entry values without copying them. An Entry is
// immutable once passed to Set: neither the caller nor readers of Get may
// modify it, its Header or its Body.
package cache
