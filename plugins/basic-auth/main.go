// Command basic-auth is a gateway plugin that authenticates requests with
// HTTP Basic credentials (RFC 7617) against users whose passwords are stored
// as bcrypt or argon2id hashes, never in clear.
//
// A missing, malformed or wrong credential gets 401 {"message":"Unauthorized"}
// with a WWW-Authenticate: Basic realm="..." challenge; the reason is in the
// plugin log only. On success the user name becomes the "auth.principal"
// property and, optionally, a request header for the upstream (any copy the
// client sent is removed first).
//
//	plugin "basic-auth" {
//	  source = "bin/plugins/basic-auth.wasm"
//	  config = {
//	    realm          = "admin"
//	    users          = { alice = env("ALICE_HASH") } # "$2b$10$..." or "$argon2id$v=19$..."
//	    forward_header = "X-Consumer-Username"
//	    cache_ttl      = "60s"
//	  }
//	  limits { timeout = "500ms" } # a cache miss pays one hash
//	}
//
// Password hashes are slow on purpose, and slower in wasm; each instance caches
// successful verifications for cache_ttl, keyed by HMAC-SHA256 of the
// credentials under a random per-instance key (see README.md).
package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// Users maps user names to password hashes: bcrypt ("$2a$", "$2b$",
	// "$2y$") or argon2id in PHC format ("$argon2id$v=19$m=...,t=...,p=...$salt$hash").
	Users map[string]string `json:"users"`
	// Realm is the WWW-Authenticate realm; default "gateway".
	Realm string `json:"realm"`
	// ForwardHeader, when set, carries the user name to the upstream.
	ForwardHeader string `json:"forward_header"`
	// HideCredentials removes the Authorization header before the upstream.
	HideCredentials bool `json:"hide_credentials"`
	// CacheTTL is how long a successful verification is remembered by an
	// instance ("60s" by default, "0s" disables the cache).
	CacheTTL string `json:"cache_ttl"`
	// CacheSize bounds the entries per instance; default 1024.
	CacheSize int `json:"cache_size"`
}

// maxHeader bounds the Authorization header the plugin decodes.
const maxHeader = 4096

// verifier checks a password against one stored hash.
type verifier interface {
	verify(password []byte) bool
}

type cacheEntry struct {
	user    string
	expires time.Time
}

// state is built once per instance; an instance serves one request at a time.
var state struct {
	cfg       Config
	users     map[string]verifier
	dummy     verifier // verified for unknown users so they cost the same
	challenge string
	ttl       time.Duration
	cacheKey  []byte
	cache     map[[sha256.Size]byte]cacheEntry
	hashes    plugin.Metric
	hits      plugin.Metric
}

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if len(c.Users) == 0 {
		return errors.New(`users: set at least one user, e.g. users = { alice = "$2b$10$..." }`)
	}
	names := make([]string, 0, len(c.Users))
	users := make(map[string]verifier, len(c.Users))
	for name, hash := range c.Users {
		if name == "" || strings.ContainsAny(name, ":\x00\r\n") {
			return fmt.Errorf("users: user name %q is empty or contains ':' or a control character", name)
		}
		v, err := parseHash(hash)
		if err != nil {
			return fmt.Errorf("users.%s: %w", name, err)
		}
		users[name] = v
		names = append(names, name)
	}
	slices.Sort(names)
	if c.Realm == "" {
		c.Realm = "gateway"
	}
	if strings.ContainsAny(c.Realm, "\"\\\x00\r\n") {
		return fmt.Errorf("realm: %q must not contain quotes, backslashes or control characters", c.Realm)
	}
	if c.ForwardHeader != "" && !isToken(c.ForwardHeader) {
		return fmt.Errorf("forward_header: %q is not a header name", c.ForwardHeader)
	}
	ttl := 60 * time.Second
	if c.CacheTTL != "" {
		d, err := time.ParseDuration(c.CacheTTL)
		if err != nil || d < 0 {
			return fmt.Errorf("cache_ttl: %q is not a duration like \"60s\" (\"0s\" disables the cache)", c.CacheTTL)
		}
		ttl = d
	}
	if c.CacheSize < 0 {
		return fmt.Errorf("cache_size: %d must not be negative", c.CacheSize)
	}
	if c.CacheSize == 0 {
		c.CacheSize = 1024
	}
	hashes, err := plugin.NewCounter("basic_auth_hash_verifications_total", "Password hash verifications (cache misses) by basic-auth.")
	if err != nil {
		return fmt.Errorf("define metric basic_auth_hash_verifications_total: %w", err)
	}
	hits, err := plugin.NewCounter("basic_auth_cache_hits_total", "Requests authenticated from the basic-auth verification cache.")
	if err != nil {
		return fmt.Errorf("define metric basic_auth_cache_hits_total: %w", err)
	}
	key := make([]byte, 32)
	plugin.Random(key)
	state.cfg, state.users, state.dummy = c, users, users[names[0]]
	state.challenge = `Basic realm="` + c.Realm + `", charset="UTF-8"`
	state.ttl, state.cacheKey = ttl, key
	state.cache = make(map[[sha256.Size]byte]cacheEntry)
	state.hashes, state.hits = hashes, hits
	return nil
}

// parseHash validates a stored hash and returns its verifier.
func parseHash(h string) (verifier, error) {
	switch {
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if _, err := bcrypt.Cost([]byte(h)); err != nil {
			return nil, fmt.Errorf("malformed bcrypt hash: %w; generate one with htpasswd -nbB user password", err)
		}
		return bcryptHash([]byte(h)), nil
	case strings.HasPrefix(h, "$argon2id$"):
		return parseArgon2id(h)
	case strings.HasPrefix(h, "$argon2"):
		return nil, errors.New("only argon2id hashes are accepted, not argon2i or argon2d")
	}
	return nil, errors.New(`not a bcrypt ("$2b$...") or argon2id ("$argon2id$v=19$...") hash; store hashes, never passwords`)
}

type bcryptHash []byte

func (b bcryptHash) verify(pw []byte) bool {
	// CompareHashAndPassword compares in constant time.
	return bcrypt.CompareHashAndPassword(b, pw) == nil
}

type argon2idHash struct {
	memory, time uint32
	threads      uint8
	salt, hash   []byte
}

func (a *argon2idHash) verify(pw []byte) bool {
	got := argon2.IDKey(pw, a.salt, a.time, a.memory, a.threads, uint32(len(a.hash)))
	return subtle.ConstantTimeCompare(got, a.hash) == 1
}

// parseArgon2id parses "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>" with
// unpadded standard base64 salt and hash.
func parseArgon2id(h string) (verifier, error) {
	const help = `; the format is "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<base64 salt>$<base64 hash>"`
	parts := strings.Split(h, "$")
	if len(parts) != 6 {
		return nil, errors.New("malformed argon2id hash" + help)
	}
	if parts[2] != "v=19" {
		return nil, fmt.Errorf("argon2id version %q is not supported (want v=19)%s", parts[2], help)
	}
	var a argon2idHash
	var seen int
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("argon2id parameter %q is not a number%s", kv, help)
		}
		switch k {
		case "m":
			a.memory, seen = uint32(n), seen|1
		case "t":
			a.time, seen = uint32(n), seen|2
		case "p":
			if n > 255 {
				return nil, fmt.Errorf("argon2id parallelism %d is over 255", n)
			}
			a.threads, seen = uint8(n), seen|4
		default:
			return nil, fmt.Errorf("unknown argon2id parameter %q%s", k, help)
		}
	}
	if seen != 7 || a.time == 0 || a.threads == 0 || a.memory < 8*uint32(a.threads) {
		return nil, errors.New("argon2id parameters m, t and p must all be set, with t >= 1, p >= 1 and m >= 8*p" + help)
	}
	if a.memory > 256*1024 {
		return nil, fmt.Errorf("argon2id memory m=%d KiB is over 256 MiB, more than a plugin instance can use", a.memory)
	}
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(a.salt) < 8 {
		return nil, errors.New("argon2id salt is not unpadded base64 of at least 8 bytes" + help)
	}
	if a.hash, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(a.hash) < 16 {
		return nil, errors.New("argon2id hash is not unpadded base64 of at least 16 bytes" + help)
	}
	return &a, nil
}

// isToken reports an RFC 9110 token (a header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// parseBasic decodes "Basic base64(user:password)".
func parseBasic(h string) (user string, cred []byte, err error) {
	if len(h) > maxHeader {
		return "", nil, fmt.Errorf("authorization header of %d bytes is over %d", len(h), maxHeader)
	}
	scheme, b64, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", nil, errors.New("authorization scheme is not Basic")
	}
	cred, err = base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", nil, errors.New("basic credentials are not valid base64")
	}
	i := slices.Index(cred, ':')
	if i <= 0 {
		return "", nil, errors.New("basic credentials have no user name or no ':'")
	}
	return string(cred[:i]), cred, nil
}

// cacheKeyOf is HMAC-SHA256 of the decoded "user:password" under the
// instance's random key: the cache never holds a password or a plain hash of
// one, and its keys are useless outside this instance.
func cacheKeyOf(cred []byte) [sha256.Size]byte {
	return plugin.HMACSHA256(state.cacheKey, cred)
}

func cachePut(k [sha256.Size]byte, user string, now time.Time) {
	if len(state.cache) >= state.cfg.CacheSize {
		for key, e := range state.cache {
			if !now.Before(e.expires) {
				delete(state.cache, key)
			}
		}
		if len(state.cache) >= state.cfg.CacheSize {
			clear(state.cache)
		}
	}
	state.cache[k] = cacheEntry{user: user, expires: now.Add(state.ttl)}
}

// authenticate returns the user name, or the reason for the 401.
func authenticate(header string) (string, error) {
	user, cred, err := parseBasic(header)
	if err != nil {
		return "", err
	}
	defer clear(cred)
	pw := cred[len(user)+1:]
	var key [sha256.Size]byte
	var now time.Time
	if state.ttl > 0 {
		now = plugin.Now()
		key = cacheKeyOf(cred)
		if e, ok := state.cache[key]; ok && now.Before(e.expires) {
			state.hits.Add(1)
			return e.user, nil
		}
	}
	state.hashes.Add(1)
	v, known := state.users[user]
	if !known {
		state.dummy.verify(pw) // same work as a known user: no user enumeration by timing
		return "", fmt.Errorf("unknown user %s", quote(user))
	}
	if !v.verify(pw) {
		return "", fmt.Errorf("wrong password for user %s", quote(user))
	}
	if state.ttl > 0 {
		cachePut(key, user, now)
	}
	return user, nil
}

// quote bounds and quotes a client-supplied string for the log.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}

func onRequestHeaders(req plugin.Request) plugin.Action {
	h := req.Header()
	if state.cfg.ForwardHeader != "" {
		h.Del(state.cfg.ForwardHeader)
	}
	auth, ok := h.Lookup("Authorization")
	if !ok {
		return unauthorized(errors.New("no authorization header"))
	}
	user, err := authenticate(auth)
	if err != nil {
		return unauthorized(err)
	}
	req.SetProperty("auth.principal", user)
	if state.cfg.ForwardHeader != "" {
		h.Set(state.cfg.ForwardHeader, user)
	}
	if state.cfg.HideCredentials {
		h.Del("Authorization")
	}
	return plugin.Continue
}

func unauthorized(why error) plugin.Action {
	plugin.LogInfo("basic-auth: " + why.Error())
	plugin.Response{}.Header().Set("WWW-Authenticate", state.challenge)
	return plugin.Unauthorized()
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:      configure,
		OnRequestHeaders: onRequestHeaders,
	})
}

func main() {}
