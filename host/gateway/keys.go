package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wasmgate/gateway/host/config"
	"github.com/wasmgate/gateway/host/proxy"
	"github.com/wasmgate/gateway/host/quota"
	"github.com/wasmgate/gateway/host/ratelimit"
)

// HeaderAPIKey carries the API key of a request to a route covered by a
// usage plan, when no auth plugin identified the key (AWS's x-api-key).
const HeaderAPIKey = "X-Api-Key"

// limitExceeded is the body message of a request over its quota (AWS wording).
const limitExceeded = "Limit Exceeded"

// keyCacheTTL is how long an instance trusts its copy of a key record; a key
// revoked on another instance keeps working here for at most this long.
const keyCacheTTL = time.Second

// apiKey is one API key record. The key itself is never stored: only its
// SHA-256. ID is the first 8 hex digits of the hash, as key-auth's
// auth.key_id property, so plans can be attached to key-auth's keys too.
type apiKey struct {
	ID       string    `json:"id"`
	SHA256   string    `json:"sha256,omitempty"`
	Consumer string    `json:"consumer,omitempty"`
	Plan     string    `json:"plan,omitempty"`
	Created  time.Time `json:"created"`
}

// keyStore keeps API key records by id and by hash.
type keyStore interface {
	put(ctx context.Context, k *apiKey) error
	byID(ctx context.Context, id string) (*apiKey, bool, error)
	byHash(ctx context.Context, sum string) (*apiKey, bool, error)
	delete(ctx context.Context, id string) (bool, error)
}

// memoryKeys is the keyStore of a gateway without Redis.
type memoryKeys struct {
	mu     sync.RWMutex
	ids    map[string]*apiKey
	hashes map[string]string
}

func newMemoryKeys() *memoryKeys {
	return &memoryKeys{ids: map[string]*apiKey{}, hashes: map[string]string{}}
}

func (m *memoryKeys) put(_ context.Context, k *apiKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *k
	m.ids[k.ID] = &c
	if k.SHA256 != "" {
		m.hashes[k.SHA256] = k.ID
	}
	return nil
}

func (m *memoryKeys) byID(_ context.Context, id string) (*apiKey, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.ids[id]
	if !ok {
		return nil, false, nil
	}
	c := *k
	return &c, true, nil
}

func (m *memoryKeys) byHash(ctx context.Context, sum string) (*apiKey, bool, error) {
	m.mu.RLock()
	id, ok := m.hashes[sum]
	m.mu.RUnlock()
	if !ok {
		return nil, false, nil
	}
	return m.byID(ctx, id)
}

func (m *memoryKeys) delete(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.ids[id]
	if ok {
		delete(m.ids, id)
		delete(m.hashes, k.SHA256)
	}
	return ok, nil
}

// redisKeys is the keyStore shared by every instance on one Redis: the
// record is JSON under <prefix>id:<id>, and <prefix>sha:<sha256> holds the id.
type redisKeys struct {
	c      redis.UniversalClient
	prefix string
}

func (r *redisKeys) put(ctx context.Context, k *apiKey) error {
	b, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode api key %s: %w", k.ID, err)
	}
	if err := r.c.Set(ctx, r.prefix+"id:"+k.ID, b, 0).Err(); err != nil {
		return fmt.Errorf("store api key %s in redis: %w", k.ID, err)
	}
	if k.SHA256 != "" {
		if err := r.c.Set(ctx, r.prefix+"sha:"+k.SHA256, k.ID, 0).Err(); err != nil {
			return fmt.Errorf("index api key %s in redis: %w", k.ID, err)
		}
	}
	return nil
}

func (r *redisKeys) byID(ctx context.Context, id string) (*apiKey, bool, error) {
	b, err := r.c.Get(ctx, r.prefix+"id:"+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read api key %s from redis: %w", id, err)
	}
	k := &apiKey{}
	if err := json.Unmarshal(b, k); err != nil {
		return nil, false, fmt.Errorf("decode api key %s from redis: %w", id, err)
	}
	return k, true, nil
}

func (r *redisKeys) byHash(ctx context.Context, sum string) (*apiKey, bool, error) {
	id, err := r.c.Get(ctx, r.prefix+"sha:"+sum).Result()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("look up an api key by hash in redis: %w", err)
	}
	return r.byID(ctx, id)
}

func (r *redisKeys) delete(ctx context.Context, id string) (bool, error) {
	k, ok, err := r.byID(ctx, id)
	if err != nil || !ok {
		return false, err
	}
	keys := []string{r.prefix + "id:" + id}
	if k.SHA256 != "" {
		keys = append(keys, r.prefix+"sha:"+k.SHA256)
	}
	for _, key := range keys { // one DEL per key: the keys may live on different cluster slots
		if err := r.c.Del(ctx, key).Err(); err != nil {
			return false, fmt.Errorf("delete api key %s from redis: %w", id, err)
		}
	}
	return true, nil
}

// cachedKeys fronts a keyStore with a short-lived per-instance cache, so
// the request path does not ask Redis for the key on every request.
type cachedKeys struct {
	keyStore
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedKey // "h:"+sha or "i:"+id
}

type cachedKey struct {
	k       *apiKey // nil: known absent
	expires time.Time
}

func newCachedKeys(s keyStore) *cachedKeys {
	return &cachedKeys{keyStore: s, now: time.Now, m: map[string]cachedKey{}}
}

func (c *cachedKeys) lookup(ctx context.Context, ck string, load func() (*apiKey, bool, error)) (*apiKey, bool, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[ck]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.k, e.k != nil, nil
	}
	k, found, err := load()
	if err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	if len(c.m) > 100_000 {
		clear(c.m)
	}
	c.m[ck] = cachedKey{k: k, expires: now.Add(keyCacheTTL)}
	c.mu.Unlock()
	return k, found, nil
}

func (c *cachedKeys) cachedByID(ctx context.Context, id string) (*apiKey, bool, error) {
	return c.lookup(ctx, "i:"+id, func() (*apiKey, bool, error) { return c.byID(ctx, id) })
}

func (c *cachedKeys) cachedByHash(ctx context.Context, sum string) (*apiKey, bool, error) {
	return c.lookup(ctx, "h:"+sum, func() (*apiKey, bool, error) { return c.byHash(ctx, sum) })
}

// forget drops every cached record (after an admin change on this instance).
func (c *cachedKeys) forget() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// newKey returns a fresh random API key and its record.
func newKey(consumer, plan string, now time.Time) (string, *apiKey, error) {
	var raw [30]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, fmt.Errorf("generate an api key: %w", err)
	}
	key := base64.RawURLEncoding.EncodeToString(raw[:])
	sum := keySum(key)
	return key, &apiKey{ID: sum[:8], SHA256: sum, Consumer: consumer, Plan: plan, Created: now.UTC()}, nil
}

// keySum is hex(sha256(key)).
func keySum(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// plan is the runtime form of one config.UsagePlan.
type plan struct {
	cfg       *config.UsagePlan
	limiter   ratelimit.Limiter // nil without a throttle
	window    time.Duration
	period    quota.Period
	exhausted prometheus.Counter
	errs      prometheus.Counter
}

// routePlans returns the usage plans covering rc, by name; nil when none does.
func (t *traffic) routePlans(rc *config.Route) map[string]*plan {
	if t == nil {
		return nil
	}
	var out map[string]*plan
	for name, p := range t.plans {
		covers := len(p.cfg.Routes) == 0
		for _, r := range p.cfg.Routes {
			covers = covers || r == rc
		}
		if covers {
			if out == nil {
				out = map[string]*plan{}
			}
			out[name] = p
		}
	}
	return out
}

// admitPlan identifies the request's API key and applies its usage plan:
// 403 without a key attached to a plan covering the route, 429 Too Many
// Requests over the plan's throttle, 429 Limit Exceeded over its quota.
func (st *reqState) admitPlan(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
	t := st.gen.traffic
	var (
		k     *apiKey
		found bool
		err   error
	)
	if id, ok := st.info.Property(PropertyKeyID); ok && id != "" {
		k, found, err = t.keys.cachedByID(ctx, id)
	} else if v := r.Header.Get(HeaderAPIKey); v != "" {
		k, found, err = t.keys.cachedByHash(ctx, keySum(v))
	}
	if err != nil {
		st.ex.Err = fmt.Errorf("look up the api key: %w", err)
		proxy.WriteError(w, http.StatusServiceUnavailable, "Service Unavailable", st.reqID)
		return false
	}
	var p *plan
	if found {
		p = st.rt.plans[k.Plan]
	}
	if p == nil {
		proxy.WriteError(w, http.StatusForbidden, "Forbidden", st.reqID)
		return false
	}
	if p.limiter != nil {
		d, err := p.limiter.Allow(ctx, "plan:"+p.cfg.Name+"|"+k.ID, p.cfg.Rate, p.cfg.Burst)
		if err == nil {
			ratelimit.Headers(w.Header(), d, p.window)
			if !d.Allowed {
				proxy.WriteError(w, http.StatusTooManyRequests, tooManyRequests, st.reqID)
				return false
			}
		}
	}
	if q := p.cfg.Quota; q != nil {
		ok, _, err := t.quota.Consume(ctx, k.ID, q.Limit, p.period)
		switch {
		case err != nil && ctx.Err() == nil:
			p.errs.Inc()
			if p.cfg.OnBackendError == config.OnErrorDeny {
				w.Header()[ratelimit.HeaderRetryAfter] = []string{"1"}
				proxy.WriteError(w, http.StatusTooManyRequests, tooManyRequests, st.reqID)
				return false
			}
		case err != nil:
		case !ok:
			p.exhausted.Inc()
			proxy.WriteError(w, http.StatusTooManyRequests, limitExceeded, st.reqID)
			return false
		}
	}
	return true
}
