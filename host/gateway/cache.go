package gateway

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmgate/gateway/host/cache"
	"github.com/wasmgate/gateway/host/config"
)

// HeaderXCache says whether a cached route's response came from the cache.
const HeaderXCache = "X-Cache"

// maxCachedBody bounds the body of one cached response; bigger responses
// stream through uncached.
const maxCachedBody = 4 << 20

// routeCache is a route's response cache settings and counters.
type routeCache struct {
	cfg    *config.RouteCache
	store  cache.Store
	policy cache.Policy
	// varyEncoding: Accept-Encoding is part of the key, so encoded
	// (compressed) upstream responses may be stored.
	varyEncoding              bool
	hit, miss, bypass, failed prometheus.Counter
}

// newRouteCache returns rc's cache, or nil when rc is not cached.
func (t *traffic) newRouteCache(rc *config.Route) *routeCache {
	if t == nil || rc.Cache == nil {
		return nil
	}
	cv := t.metrics.cache
	return &routeCache{
		cfg:   rc.Cache,
		store: t.cache,
		varyEncoding: slices.ContainsFunc(rc.Cache.Headers, func(h string) bool {
			return strings.EqualFold(h, "Accept-Encoding")
		}),
		hit:    cv.WithLabelValues(rc.Key, "hit"),
		miss:   cv.WithLabelValues(rc.Key, "miss"),
		bypass: cv.WithLabelValues(rc.Key, "bypass"),
		failed: cv.WithLabelValues(rc.Key, "error"),
	}
}

// serveCached answers GET and HEAD requests of a cached route from the
// cache, or runs the final step and stores its response when it may be
// cached. A client's Cache-Control: max-age=0 skips the lookup and
// refreshes the entry when the route allows client invalidation.
func (st *reqState) serveCached(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	rc := st.rt.cache
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rc.bypass.Inc()
		st.serveFinal(w, r)
		return
	}
	// HEAD is answered from the GET entry and never stores one (it has no body).
	key := st.rt.cfg.Key + cache.KeySeparator + cache.Key(http.MethodGet, st.path, r.URL.Query(), rc.cfg.Query, r.Header, rc.cfg.Headers)
	if !(rc.cfg.AllowClientInvalidation && clientMaxAgeZero(r.Header)) {
		e, ok, err := rc.store.Get(ctx, key)
		switch {
		case err != nil:
			rc.failed.Inc() // serve from the upstream; the cache is an optimisation
		case ok:
			rc.hit.Inc()
			writeEntry(w, r, e)
			return
		}
	}
	rc.miss.Inc()
	rec := &cacheRecorder{ResponseWriter: w}
	st.serveFinal(rec, r)
	if rec.tooBig || !rec.wroteHeader || r.Method != http.MethodGet {
		return
	}
	if !rc.varyEncoding && rec.header.Get("Content-Encoding") != "" {
		return
	}
	ttl, ok := rc.policy.Cacheable(r.Header, rec.header, rec.status)
	if !ok {
		return
	}
	if ttl <= 0 || ttl > rc.cfg.TTL {
		ttl = rc.cfg.TTL
	}
	e := &cache.Entry{Status: rec.status, Header: storedHeader(rec.header, st.gen.reqIDHeader), Body: rec.body.Bytes(), TTL: ttl}
	if err := rc.store.Set(ctx, key, e); err != nil {
		rc.failed.Inc()
	}
}

// cachePrefix is the prefix of the cache keys of a route (path == "") or of
// one path of a route: keys are "<route key>|<path>|<METHOD>|<hash>".
func cachePrefix(routeKey, path string) string {
	if path == "" {
		return routeKey + cache.KeySeparator
	}
	return routeKey + cache.KeySeparator + cache.RoutePrefix(path)
}

// clientMaxAgeZero reports whether the request says Cache-Control: max-age=0.
func clientMaxAgeZero(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		for _, d := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "max-age=0") {
				return true
			}
		}
	}
	return false
}

// perRequestHeaders are response headers that belong to one exchange and
// are never stored.
var perRequestHeaders = []string{
	"Connection", "Keep-Alive", "Transfer-Encoding", "Date", "Set-Cookie", HeaderXCache, "Age",
	"Retry-After", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset", "Ratelimit-Policy",
}

// storedHeader returns the part of h worth storing.
func storedHeader(h http.Header, reqIDHeader string) http.Header {
	out := h.Clone()
	for _, k := range perRequestHeaders {
		delete(out, k)
	}
	delete(out, reqIDHeader)
	return out
}

// writeEntry writes a cached response.
func writeEntry(w http.ResponseWriter, r *http.Request, e *cache.Entry) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	h[HeaderXCache] = []string{"Hit"}
	h["Age"] = []string{strconv.FormatInt(int64(time.Since(e.StoredAt)/time.Second), 10)}
	h["Content-Length"] = []string{strconv.Itoa(len(e.Body))}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.Body)
	}
}

// cacheRecorder passes a response through and keeps a copy of it.
type cacheRecorder struct {
	http.ResponseWriter
	header      http.Header
	status      int
	wroteHeader bool
	tooBig      bool
	body        bytes.Buffer
}

func (c *cacheRecorder) WriteHeader(code int) {
	if !c.wroteHeader && code >= 200 {
		c.wroteHeader = true
		c.status = code
		c.ResponseWriter.Header()[HeaderXCache] = []string{"Miss"}
		c.header = c.ResponseWriter.Header().Clone()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *cacheRecorder) Write(p []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if !c.tooBig {
		if c.body.Len()+len(p) > maxCachedBody {
			c.tooBig = true
			c.body = bytes.Buffer{}
		} else {
			c.body.Write(p)
		}
	}
	return c.ResponseWriter.Write(p)
}

// Flush implements http.Flusher.
func (c *cacheRecorder) Flush() {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(c.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *cacheRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }
