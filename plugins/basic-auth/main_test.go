package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/wasmgate/gateway/sdk/go/plugintest"
)

// bcryptOf hashes pw at the minimum cost, to keep tests fast.
func bcryptOf(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	require.NoError(t, err)
	return string(h)
}

// argon2idOf hashes pw with small parameters, in PHC format.
func argon2idOf(pw string) string {
	salt := []byte("0123456789abcdef")
	h := argon2.IDKey([]byte(pw), salt, 1, 64, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h))
}

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func configJSON(t testing.TB, extra map[string]any) string {
	t.Helper()
	c := map[string]any{
		"users": map[string]string{
			"alice": bcryptOf(t, "correct horse"),
			"bob":   argon2idOf("battery:staple"),
		},
		"realm":          "admin",
		"forward_header": "X-Consumer-Username",
	}
	for k, v := range extra {
		c[k] = v
	}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return string(b)
}

func TestBasicAuth(t *testing.T) {
	tests := []struct {
		name, auth string
		noAuth     bool
		expUser    string
		expHashes  float64 // hash verifications this request did
		expLog     string
	}{
		{name: "bcrypt user", auth: basic("alice", "correct horse"), expUser: "alice", expHashes: 1},
		{name: "argon2id user, colon in password", auth: basic("bob", "battery:staple"), expUser: "bob", expHashes: 1},
		{name: "scheme is case-insensitive", auth: "basic " + base64.StdEncoding.EncodeToString([]byte("alice:correct horse")), expUser: "alice", expHashes: 0}, // cached by the first row
		{name: "wrong password", auth: basic("alice", "correct horsE"), expHashes: 1, expLog: `basic-auth: wrong password for user "alice"`},
		{name: "wrong argon2id password", auth: basic("bob", "battery"), expHashes: 1, expLog: `basic-auth: wrong password for user "bob"`},
		{name: "unknown user pays a dummy hash", auth: basic("mallory", "correct horse"), expHashes: 1, expLog: `basic-auth: unknown user "mallory"`},
		{name: "user name is case-sensitive", auth: basic("Alice", "correct horse"), expHashes: 1, expLog: `basic-auth: unknown user "Alice"`},
		{name: "empty password", auth: basic("alice", ""), expHashes: 1, expLog: `basic-auth: wrong password for user "alice"`},
		{name: "missing header", noAuth: true, expLog: "basic-auth: no authorization header"},
		{name: "bearer scheme", auth: "Bearer abc", expLog: "basic-auth: authorization scheme is not Basic"},
		{name: "no space", auth: "Basic", expLog: "basic-auth: authorization scheme is not Basic"},
		{name: "bad base64", auth: "Basic !!!", expLog: "basic-auth: basic credentials are not valid base64"},
		{name: "no colon", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")), expLog: "basic-auth: basic credentials have no user name or no ':'"},
		{name: "empty user", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(":pw")), expLog: "basic-auth: basic credentials have no user name or no ':'"},
		{name: "oversized header", auth: "Basic " + string(make([]byte, 5000)), expLog: "basic-auth: authorization header of 5006 bytes is over 4096"},
		{name: "password with NUL", auth: basic("alice", "correct horse\x00"), expHashes: 1, expLog: `basic-auth: wrong password for user "alice"`},
	}
	h := plugintest.New(t, configJSON(t, nil))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{"X-Consumer-Username": {"spoofed"}}
			if !tc.noAuth {
				hdr.Set("Authorization", tc.auth)
			}
			before := h.Metrics["basic_auth_hash_verifications_total"]
			res := h.Do(&plugintest.Request{Header: hdr})
			assert.Equal(t, tc.expHashes, h.Metrics["basic_auth_hash_verifications_total"]-before)
			if tc.expUser != "" {
				require.True(t, res.UpstreamCalled)
				assert.Equal(t, tc.expUser, res.Request.Properties["auth.principal"])
				assert.Equal(t, []string{tc.expUser}, res.Request.Header.Values("X-Consumer-Username"))
				assert.NotEmpty(t, res.Request.Header.Get("Authorization"), "kept without hide_credentials")
				return
			}
			assert.False(t, res.UpstreamCalled)
			assert.Equal(t, 401, res.Status)
			assert.JSONEq(t, `{"message":"Unauthorized"}`, string(res.Body))
			assert.Equal(t, `Basic realm="admin", charset="UTF-8"`, res.Header.Get("WWW-Authenticate"))
			assert.Empty(t, res.Request.Properties["auth.principal"])
			require.NotEmpty(t, h.Logs)
			assert.Equal(t, tc.expLog, h.Logs[len(h.Logs)-1].Message)
			for _, l := range h.Logs {
				assert.NotContains(t, l.Message, "horse", "passwords are never logged")
			}
		})
	}
}

func TestCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := plugintest.New(t, configJSON(t, map[string]any{"cache_ttl": "30s", "hide_credentials": true}))
	h.Now = func() time.Time { return now }
	do := func(auth string) *plugintest.Result {
		return h.Do(&plugintest.Request{Header: http.Header{"Authorization": {auth}}})
	}

	res := do(basic("alice", "correct horse"))
	require.True(t, res.UpstreamCalled)
	assert.Empty(t, res.Request.Header.Get("Authorization"), "hide_credentials")
	assert.Equal(t, 1.0, h.Metrics["basic_auth_hash_verifications_total"])

	require.True(t, do(basic("alice", "correct horse")).UpstreamCalled)
	assert.Equal(t, 1.0, h.Metrics["basic_auth_hash_verifications_total"], "second request served from the cache")
	assert.Equal(t, 1.0, h.Metrics["basic_auth_cache_hits_total"])

	assert.False(t, do(basic("alice", "wrong")).UpstreamCalled, "a cached user does not make other passwords pass")
	assert.Equal(t, 2.0, h.Metrics["basic_auth_hash_verifications_total"])
	assert.False(t, do(basic("alice", "wrong")).UpstreamCalled, "failures are not cached")
	assert.Equal(t, 3.0, h.Metrics["basic_auth_hash_verifications_total"])

	now = now.Add(31 * time.Second)
	require.True(t, do(basic("alice", "correct horse")).UpstreamCalled)
	assert.Equal(t, 4.0, h.Metrics["basic_auth_hash_verifications_total"], "expired entry verified again")

	for k := range state.cache {
		assert.NotContains(t, string(k[:]), "horse")
	}
}

func TestCacheDisabledAndBounded(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		h := plugintest.New(t, configJSON(t, map[string]any{"cache_ttl": "0s"}))
		for range 3 {
			require.True(t, h.Do(&plugintest.Request{Header: http.Header{"Authorization": {basic("bob", "battery:staple")}}}).UpstreamCalled)
		}
		assert.Equal(t, 3.0, h.Metrics["basic_auth_hash_verifications_total"])
		assert.Empty(t, state.cache)
	})
	t.Run("bounded", func(t *testing.T) {
		h := plugintest.New(t, configJSON(t, map[string]any{"cache_size": 1}))
		for _, u := range []string{"alice:correct horse", "bob:battery:staple"} {
			user, pw, _ := cut(u)
			require.True(t, h.Do(&plugintest.Request{Header: http.Header{"Authorization": {basic(user, pw)}}}).UpstreamCalled)
		}
		assert.Len(t, state.cache, 1)
	})
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestConfig(t *testing.T) {
	good := argon2idOf("pw")
	tests := []struct{ name, in, expErr string }{
		{name: "no users", in: `{}`, expErr: `users: set at least one user, e.g. users = { alice = "$2b$10$..." }`},
		{name: "plaintext password", in: `{"users":{"a":"hunter2"}}`, expErr: `users.a: not a bcrypt ("$2b$...") or argon2id ("$argon2id$v=19$...") hash; store hashes, never passwords`},
		{name: "colon in user", in: `{"users":{"a:b":"` + good + `"}}`, expErr: `users: user name "a:b" is empty or contains ':' or a control character`},
		{name: "truncated bcrypt", in: `{"users":{"a":"$2b$10$abc"}}`, expErr: `users.a: malformed bcrypt hash: crypto/bcrypt: hashedSecret too short to be a bcrypted password; generate one with htpasswd -nbB user password`},
		{name: "argon2i", in: `{"users":{"a":"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}}`, expErr: `users.a: only argon2id hashes are accepted, not argon2i or argon2d`},
		{name: "argon2id old version", in: `{"users":{"a":"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}}`, expErr: `users.a: argon2id version "v=16" is not supported (want v=19); the format is "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<base64 salt>$<base64 hash>"`},
		{name: "argon2id missing t", in: `{"users":{"a":"$argon2id$v=19$m=64,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}}`, expErr: `users.a: argon2id parameters m, t and p must all be set, with t >= 1, p >= 1 and m >= 8*p; the format is "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<base64 salt>$<base64 hash>"`},
		{name: "argon2id huge memory", in: `{"users":{"a":"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}}`, expErr: `users.a: argon2id memory m=4194304 KiB is over 256 MiB, more than a plugin instance can use`},
		{name: "argon2id short salt", in: `{"users":{"a":"$argon2id$v=19$m=64,t=1,p=1$c2Fs$aGFzaGhhc2hoYXNoaGFzaA"}}`, expErr: `users.a: argon2id salt is not unpadded base64 of at least 8 bytes; the format is "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<base64 salt>$<base64 hash>"`},
		{name: "argon2id fields", in: `{"users":{"a":"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ"}}`, expErr: `users.a: malformed argon2id hash; the format is "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<base64 salt>$<base64 hash>"`},
		{name: "realm quote", in: `{"users":{"a":"` + good + `"},"realm":"x\" y"}`, expErr: `realm: "x\" y" must not contain quotes, backslashes or control characters`},
		{name: "bad header", in: `{"users":{"a":"` + good + `"},"forward_header":"X User"}`, expErr: `forward_header: "X User" is not a header name`},
		{name: "bad ttl", in: `{"users":{"a":"` + good + `"},"cache_ttl":"soon"}`, expErr: `cache_ttl: "soon" is not a duration like "60s" ("0s" disables the cache)`},
		{name: "unknown field", in: `{"user":{}}`, expErr: `decode config: json: unknown field "user"`},
		{name: "ok", in: `{"users":{"a":"` + good + `","b":"$2y$04$vGLhnJ7dpOoeh1M7w5jXu.r0ob4bBy1mTUCKKWczy0dHaWmFZYeDS"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugintest.NewUnconfigured(t, tc.in).Configure()
			if tc.expErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.expErr)
		})
	}
}
