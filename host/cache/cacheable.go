package cache

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy holds the gateway-side rules of Cacheable. The zero value caches
// status 200 only.
type Policy struct {
	// Statuses are the response statuses that may be cached. Empty means
	// just 200.
	Statuses []int
}

// Cacheable applies the zero Policy: see Policy.Cacheable.
func Cacheable(reqHeader, respHeader http.Header, status int) (ttlOverride time.Duration, ok bool) {
	return Policy{}.Cacheable(reqHeader, respHeader, status)
}

// Cacheable reports whether a shared cache may store the response to a
// request (RFC 9111, restricted to what a gateway cache needs), and the
// response's own lifetime if it states one.
//
// A response is not stored when:
//   - its status is not in p.Statuses (200 by default);
//   - the request says Cache-Control: no-store;
//   - the response says Cache-Control: no-store, private or no-cache (the
//     gateway does not revalidate), or has an invalid or zero max-age or
//     s-maxage, or an Expires not after its Date;
//   - the response sets a cookie (Set-Cookie) or says Vary: *;
//   - the request carried Authorization and the response does not say
//     public, s-maxage or must-revalidate (RFC 9111 section 3.5).
//
// Otherwise ok is true and ttlOverride is the response's freshness
// lifetime: s-maxage, else max-age, else Expires minus Date, less the Age
// header; or 0 when the response states none, in which case the route's
// configured TTL applies. Callers typically use min(configured TTL,
// ttlOverride) when ttlOverride > 0.
func (p Policy) Cacheable(reqHeader, respHeader http.Header, status int) (ttlOverride time.Duration, ok bool) {
	if len(p.Statuses) == 0 {
		if status != http.StatusOK {
			return 0, false
		}
	} else if !slices.Contains(p.Statuses, status) {
		return 0, false
	}
	req := parseCacheControl(reqHeader)
	if req.has("no-store") {
		return 0, false
	}
	resp := parseCacheControl(respHeader)
	if resp.has("no-store") || resp.has("private") || resp.has("no-cache") {
		return 0, false
	}
	if len(respHeader.Values("Set-Cookie")) > 0 {
		return 0, false
	}
	for _, v := range respHeader.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(f) == "*" {
				return 0, false
			}
		}
	}
	if reqHeader.Get("Authorization") != "" &&
		!resp.has("public") && !resp.has("s-maxage") && !resp.has("must-revalidate") {
		return 0, false
	}

	var lifetime time.Duration
	switch {
	case resp.has("s-maxage"):
		lifetime, ok = deltaSeconds(resp.get("s-maxage"))
	case resp.has("max-age"):
		lifetime, ok = deltaSeconds(resp.get("max-age"))
	case respHeader.Get("Expires") != "":
		lifetime, ok = expiresLifetime(respHeader)
	default:
		return 0, true
	}
	if !ok {
		return 0, false
	}
	if age, aok := deltaSeconds(respHeader.Get("Age")); aok {
		lifetime -= age
	}
	if lifetime <= 0 {
		return 0, false
	}
	return lifetime, true
}

// expiresLifetime is Expires minus Date. An invalid Expires means already
// expired (RFC 9111 section 5.3); without a valid Date there is no
// reference point for Expires, so ok is false as well.
func expiresLifetime(h http.Header) (time.Duration, bool) {
	exp, err := http.ParseTime(h.Get("Expires"))
	if err != nil {
		return 0, false
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0, false
	}
	return exp.Sub(date), true
}

// deltaSeconds parses a delta-seconds value; ok is false when it is not a
// non-negative integer. Values beyond int64 seconds saturate.
func deltaSeconds(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			return time.Duration(1<<63 - 1), true
		}
		return 0, false
	}
	if n > uint64((1<<63-1)/int64(time.Second)) {
		return time.Duration(1<<63 - 1), true
	}
	return time.Duration(n) * time.Second, true
}

// cacheControl is the parsed Cache-Control directives of one message.
type cacheControl map[string]string

func (c cacheControl) has(name string) bool   { _, ok := c[name]; return ok }
func (c cacheControl) get(name string) string { return c[name] }

// parseCacheControl collects the directives of every Cache-Control field
// line. Names are case-insensitive; quoted values are unquoted. The first
// occurrence of a directive wins.
func parseCacheControl(h http.Header) cacheControl {
	vals := h.Values("Cache-Control")
	if len(vals) == 0 {
		return nil
	}
	cc := cacheControl{}
	for _, line := range vals {
		for part := range strings.SplitSeq(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, val, _ := strings.Cut(part, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			val = strings.Trim(strings.TrimSpace(val), `"`)
			if _, dup := cc[name]; !dup {
				cc[name] = val
			}
		}
	}
	return cc
}
