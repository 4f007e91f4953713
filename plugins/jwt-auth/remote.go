package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// KV keys shared by the instances of one plugin block (the host namespaces
// them per plugin).
const (
	kvDoc     = "jwks.doc"     // "<unix ns>\n<JWKS JSON>"
	kvAttempt = "jwks.attempt" // "<unix ns>" of the last fetch attempt
)

// errRateLimited is a refresh refused because one happened too recently.
var errRateLimited = errors.New("refresh rate-limited")

// remote is a JWKS fetched through a declared upstream, directly or found by
// OIDC discovery. Keys are cached in the instance and shared through KV;
// refreshes are rate-limited across instances with a KV compare-and-swap.
type remote struct {
	upstream   string
	path       string // JWKS path; for OIDC, found by discovery
	issuer     string // OIDC only
	oidc       bool
	ttl        time.Duration
	minRefresh time.Duration
	timeout    time.Duration

	keys        []*key
	fetchedAt   time.Time // when the installed document was fetched
	lastAttempt time.Time // this instance's last fetch attempt
	gen         int       // bumped each time keys are installed
}

func newRemote(field string, c *RemoteConfig, oidc bool) (*remote, error) {
	r := &remote{upstream: c.Upstream, oidc: oidc}
	if c.Upstream == "" {
		return nil, fmt.Errorf("%s: set upstream to the name of an upstream block that reaches the key server", field)
	}
	var err error
	if r.ttl, err = duration(field+".cache_ttl", c.CacheTTL, 10*time.Minute); err != nil {
		return nil, err
	}
	if r.minRefresh, err = duration(field+".min_refresh_interval", c.MinRefreshInterval, 30*time.Second); err != nil {
		return nil, err
	}
	if r.timeout, err = duration(field+".timeout", c.Timeout, 2*time.Second); err != nil {
		return nil, err
	}
	if oidc {
		if c.Path != "" {
			return nil, errors.New("oidc: path is found by discovery; remove it, or use jwks instead of oidc")
		}
		u, err := url.Parse(c.Issuer)
		if err != nil || c.Issuer == "" || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("oidc: issuer %q must be an http(s) URL without query, like \"https://idp.example.com/realms/main\"", c.Issuer)
		}
		r.issuer = c.Issuer
		return r, nil
	}
	if c.Issuer != "" {
		return nil, errors.New("jwks: issuer belongs in the top-level issuer setting, or use oidc")
	}
	if !strings.HasPrefix(c.Path, "/") {
		return nil, fmt.Errorf("jwks: path %q must start with /, like \"/.well-known/jwks.json\"", c.Path)
	}
	r.path = c.Path
	return r, nil
}

// ensure refreshes the keys when none are installed or they are older than
// the cache TTL. Failures keep the old keys (logged).
func (r *remote) ensure(now time.Time) {
	if r.keys != nil && now.Sub(r.fetchedAt) < r.ttl {
		return
	}
	if err := r.refresh(now, r.ttl); err != nil && !errors.Is(err, errRateLimited) {
		plugin.LogWarn("jwt-auth: refresh keys: " + err.Error())
	}
}

// refresh installs a document at most maxAge old: a copy another instance
// shared through KV, or a new fetch when the rate limit allows.
func (r *remote) refresh(now time.Time, maxAge time.Duration) error {
	if doc, at, ok := loadShared(); ok && at.After(r.fetchedAt) {
		if err := r.install(doc, at); err == nil && now.Sub(at) < maxAge {
			return nil
		}
	}
	if !r.lastAttempt.IsZero() && now.Sub(r.lastAttempt) < r.minRefresh {
		return errRateLimited
	}
	// A cold instance (no keys yet) fetches without taking the shared slot, so
	// that concurrent cold starts do not answer 401 while another instance
	// fetches; a pool has few instances.
	if r.keys != nil && !claimAttempt(now, r.minRefresh) {
		r.lastAttempt = now
		return errRateLimited
	}
	r.lastAttempt = now
	doc, err := r.fetch()
	if err != nil {
		return err
	}
	if err := r.install(doc, now); err != nil {
		return err
	}
	_ = plugin.KVSet(kvDoc, append([]byte(strconv.FormatInt(now.UnixNano(), 10)+"\n"), doc...), 0)
	return nil
}

// install parses doc and replaces the keys: keys gone from the set stop
// verifying at once (rotation).
func (r *remote) install(doc []byte, at time.Time) error {
	keys, skipped, err := parseJWKS(doc)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		plugin.LogWarn("jwt-auth: jwks: skipped " + s)
	}
	r.keys, r.fetchedAt = keys, at
	r.gen++
	return nil
}

func loadShared() ([]byte, time.Time, bool) {
	v, ok, err := plugin.KVGet(kvDoc)
	if err != nil || !ok {
		return nil, time.Time{}, false
	}
	ts, doc, found := strings.Cut(string(v), "\n")
	ns, perr := strconv.ParseInt(ts, 10, 64)
	if !found || perr != nil {
		return nil, time.Time{}, false
	}
	return []byte(doc), time.Unix(0, ns), true
}

// claimAttempt takes the shared refresh slot: it reports false when another
// instance attempted a fetch less than min ago. Without KV every instance
// rate-limits on its own.
func claimAttempt(now time.Time, min time.Duration) bool {
	old, ok, err := plugin.KVGet(kvAttempt)
	if err != nil {
		return true
	}
	if ok {
		if ns, perr := strconv.ParseInt(string(old), 10, 64); perr == nil && now.Sub(time.Unix(0, ns)) < min {
			return false
		}
	} else {
		old = nil
	}
	swapped, err := plugin.KVCompareAndSwap(kvAttempt, old, []byte(strconv.FormatInt(now.UnixNano(), 10)), 0)
	return err != nil || swapped
}

func (r *remote) get(path string) ([]byte, error) {
	resp, err := plugin.HTTPCall(plugin.HTTPRequest{
		Upstream: r.upstream, Method: "GET", Path: path,
		Header: map[string]string{"Accept": "application/json"}, Timeout: r.timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("GET %s on upstream %q: %w; declare the upstream and check it is reachable", path, r.upstream, err)
	}
	if resp.Status != 200 {
		return nil, fmt.Errorf("GET %s on upstream %q: status %d, want 200", path, r.upstream, resp.Status)
	}
	return resp.Body, nil
}

func (r *remote) fetch() ([]byte, error) {
	if r.oidc {
		if err := r.discover(); err != nil {
			return nil, err
		}
	}
	return r.get(r.path)
}

// discover reads the OIDC provider metadata and takes the path of its
// jwks_uri, which must be on the issuer's origin: a discovery document cannot
// send the gateway elsewhere.
func (r *remote) discover() error {
	iss, _ := url.Parse(r.issuer)
	body, err := r.get(strings.TrimSuffix(iss.EscapedPath(), "/") + "/.well-known/openid-configuration")
	if err != nil {
		return fmt.Errorf("oidc discovery: %w", err)
	}
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return fmt.Errorf("oidc discovery: %w", err)
	}
	if meta.Issuer != r.issuer {
		return fmt.Errorf("oidc discovery: issuer %q in the metadata is not the configured %q", meta.Issuer, r.issuer)
	}
	u, err := url.Parse(meta.JWKSURI)
	if err != nil || u.Scheme != iss.Scheme || u.Host != iss.Host {
		return fmt.Errorf("oidc discovery: jwks_uri %q is not on the issuer's origin %s://%s; refusing it", meta.JWKSURI, iss.Scheme, iss.Host)
	}
	r.path = u.RequestURI()
	return nil
}
