package router

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// routeSet is the route table most match tests share. Each Value is the
// route's own key, so a test names the route it expects.
func routeSet() []Route {
	keys := []string{
		"GET /",
		"GET /users",
		"POST /users",
		"GET /users/",
		"GET /users/me",
		"GET /users/{id}",
		"ANY /users/{id}",
		"DELETE /users/{id}",
		"GET /users/{id}/",
		"GET /users/me/settings",
		"GET /users/{id}/posts",
		"GET /users/{id}/posts/{post}",
		"GET /files/{proxy+}",
		"PUT /files/special",
		"GET /files/special/{name}",
		"ANY /{proxy+}",
		"GET /a/{b}/c",
		"GET /a/b/{c}/d",
		"HEAD /head",
		"GET /caf%c3%a9",
		"GET /orders/{id}",
		"OPTIONS /orders/{x}",
		"PATCH /orders/{id}/items",
		"GET /only-get",
		"PUT /put/{id}",
		"GET api.example.com/users",
		"GET api.example.com/exact-only",
		"POST API.Example.com/exact-post",
		"GET *.example.com/users",
		"GET *.example.com/wild-only",
		"GET *.b.example.com/users",
		"GET *.b.example.com/deep",
		"GET [::1]/ipv6",
		"DELETE api.example.com/users/{id}",
		"GET other.test/{proxy+}",
	}
	routes := make([]Route, len(keys))
	for i, k := range keys {
		method, rest, _ := strings.Cut(k, " ")
		slash := strings.IndexByte(rest, '/')
		routes[i] = Route{Method: method, Host: rest[:slash], Path: rest[slash:], Value: k}
	}
	return routes
}

type param struct{ name, value string }

func TestMatch(t *testing.T) {
	rt, err := New(routeSet())
	require.NoError(t, err)

	tests := []struct {
		name     string
		method   string
		host     string
		path     string
		exp      string // the matched route's key
		expRes   Result
		expParam []param
	}{
		// Literals, params, trailing slash.
		{name: "root", method: "GET", path: "/", exp: "GET /"},
		{name: "literal", method: "GET", path: "/users", exp: "GET /users"},
		{name: "literal other method", method: "POST", path: "/users", exp: "POST /users"},
		{name: "trailing slash is distinct", method: "GET", path: "/users/", exp: "GET /users/"},
		{name: "literal beats param", method: "GET", path: "/users/me", exp: "GET /users/me"},
		{name: "param", method: "GET", path: "/users/42", exp: "GET /users/{id}", expParam: []param{{"id", "42"}}},
		{name: "param with trailing slash", method: "GET", path: "/users/42/", exp: "GET /users/{id}/", expParam: []param{{"id", "42"}}},
		{name: "param keeps encoding", method: "GET", path: "/users/caf%C3%A9", exp: "GET /users/{id}", expParam: []param{{"id", "caf%C3%A9"}}},
		{name: "two params", method: "GET", path: "/users/7/posts/9", exp: "GET /users/{id}/posts/{post}", expParam: []param{{"id", "7"}, {"post", "9"}}},
		{name: "canonical literal from template", method: "GET", path: "/caf%C3%A9", exp: "GET /caf%c3%a9"},

		// Methods.
		{name: "specific beats any", method: "DELETE", path: "/users/42", exp: "DELETE /users/{id}", expParam: []param{{"id", "42"}}},
		{name: "any catches other methods", method: "PATCH", path: "/users/42", exp: "ANY /users/{id}", expParam: []param{{"id", "42"}}},
		{name: "any catches unknown methods", method: "PROPFIND", path: "/users/42", exp: "ANY /users/{id}", expParam: []param{{"id", "42"}}},
		{name: "methods are case sensitive", method: "get", path: "/users/42", exp: "ANY /users/{id}", expParam: []param{{"id", "42"}}},
		{name: "literal without method backtracks to param any", method: "POST", path: "/users/me", exp: "ANY /users/{id}", expParam: []param{{"id", "me"}}},
		{name: "head is not served by get", method: "HEAD", path: "/only-get", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "only-get"}}},
		{name: "head route", method: "HEAD", path: "/head", exp: "HEAD /head"},
		{name: "param names differ per route on shared node", method: "OPTIONS", path: "/orders/5", exp: "OPTIONS /orders/{x}", expParam: []param{{"x", "5"}}},
		{name: "param names differ per route on shared node get", method: "GET", path: "/orders/5", exp: "GET /orders/{id}", expParam: []param{{"id", "5"}}},

		// Backtracking.
		{name: "backtrack from literal to param", method: "GET", path: "/users/me/posts", exp: "GET /users/{id}/posts", expParam: []param{{"id", "me"}}},
		{name: "literal deeper wins", method: "GET", path: "/users/me/settings", exp: "GET /users/me/settings"},
		{name: "backtrack param to literal sibling", method: "GET", path: "/a/b/c", exp: "GET /a/{b}/c", expParam: []param{{"b", "b"}}},
		{name: "literal branch deeper", method: "GET", path: "/a/b/x/d", exp: "GET /a/b/{c}/d", expParam: []param{{"c", "x"}}},
		{name: "backtrack to greedy", method: "GET", path: "/files/special/x/y", exp: "GET /files/{proxy+}", expParam: []param{{"proxy", "special/x/y"}}},
		{name: "literal method mismatch backtracks to greedy", method: "GET", path: "/files/special", exp: "GET /files/{proxy+}", expParam: []param{{"proxy", "special"}}},
		{name: "literal param deeper", method: "GET", path: "/files/special/n", exp: "GET /files/special/{name}", expParam: []param{{"name", "n"}}},
		{name: "backtrack to root greedy", method: "GET", path: "/users/1/2/3/4", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "users/1/2/3/4"}}},

		// Greedy.
		{name: "greedy one segment", method: "GET", path: "/files/a", exp: "GET /files/{proxy+}", expParam: []param{{"proxy", "a"}}},
		{name: "greedy many segments", method: "GET", path: "/files/a/b/c", exp: "GET /files/{proxy+}", expParam: []param{{"proxy", "a/b/c"}}},
		{name: "greedy keeps trailing slash", method: "GET", path: "/files/a/b/", exp: "GET /files/{proxy+}", expParam: []param{{"proxy", "a/b/"}}},
		{name: "greedy needs a segment", method: "GET", path: "/files/", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "files/"}}},
		{name: "greedy needs a segment no slash", method: "GET", path: "/files", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "files"}}},
		{name: "root greedy any method", method: "POST", path: "/x/y", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "x/y"}}},

		// Hosts.
		{name: "exact host", method: "GET", host: "api.example.com", path: "/users", exp: "GET api.example.com/users"},
		{name: "exact host with port", method: "GET", host: "api.example.com:8443", path: "/users", exp: "GET api.example.com/users"},
		{name: "exact host case", method: "GET", host: "API.EXAMPLE.COM", path: "/users", exp: "GET api.example.com/users"},
		{name: "exact host trailing dot", method: "GET", host: "api.example.com.", path: "/users", exp: "GET api.example.com/users"},
		{name: "exact host pattern case", method: "POST", host: "api.example.com", path: "/exact-post", exp: "POST API.Example.com/exact-post"},
		{name: "exact host falls back to any host", method: "GET", host: "api.example.com", path: "/users/me", exp: "GET /users/me"},
		{name: "exact host method falls back", method: "POST", host: "api.example.com", path: "/users", exp: "POST /users"},
		{name: "exact host param", method: "DELETE", host: "api.example.com", path: "/users/1", exp: "DELETE api.example.com/users/{id}", expParam: []param{{"id", "1"}}},
		{name: "exact beats wildcard", method: "GET", host: "api.example.com", path: "/wild-only", exp: "GET *.example.com/wild-only"},
		{name: "wildcard", method: "GET", host: "www.example.com", path: "/users", exp: "GET *.example.com/users"},
		{name: "wildcard with port and case", method: "GET", host: "WWW.Example.COM:80", path: "/users", exp: "GET *.example.com/users"},
		{name: "wildcard many labels", method: "GET", host: "a.c.example.com", path: "/users", exp: "GET *.example.com/users"},
		{name: "longest wildcard first", method: "GET", host: "a.b.example.com", path: "/users", exp: "GET *.b.example.com/users"},
		{name: "longer wildcard falls back to shorter", method: "GET", host: "a.b.example.com", path: "/wild-only", exp: "GET *.example.com/wild-only"},
		{name: "wildcard does not match bare domain", method: "GET", host: "example.com", path: "/users", exp: "GET /users"},
		{name: "wildcard does not match its own suffix host", method: "GET", host: "b.example.com", path: "/deep", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "deep"}}},
		{name: "wildcard deep", method: "GET", host: "x.b.example.com", path: "/deep", exp: "GET *.b.example.com/deep"},
		{name: "unrelated host uses any host", method: "GET", host: "evil.com", path: "/users", exp: "GET /users"},
		{name: "suffix without dot is not wildcard", method: "GET", host: "notexample.com", path: "/wild-only", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "wild-only"}}},
		{name: "exact only route not on other host", method: "GET", host: "www.example.com", path: "/exact-only", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "exact-only"}}},
		{name: "ipv6 host with port", method: "GET", host: "[::1]:8080", path: "/ipv6", exp: "GET [::1]/ipv6"},
		{name: "ipv6 host without port", method: "GET", host: "[::1]", path: "/ipv6", exp: "GET [::1]/ipv6"},
		{name: "host greedy", method: "GET", host: "other.test", path: "/x/y", exp: "GET other.test/{proxy+}", expParam: []param{{"proxy", "x/y"}}},
		{name: "empty host uses any host", method: "GET", host: "", path: "/users", exp: "GET /users"},

		// Not found and not allowed.
		{name: "not absolute", method: "GET", path: "users", expRes: NotFound},
		{name: "empty path", method: "GET", path: "", expRes: NotFound},
		{name: "catch-all takes method mismatch", method: "DELETE", path: "/users", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "users"}}},
		{name: "catch-all takes head", method: "GET", path: "/head", exp: "ANY /{proxy+}", expParam: []param{{"proxy", "head"}}},
		{name: "405 root not covered by catch-all", method: "POST", path: "/", expRes: MethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Params
			p.values[3] = "stale" // Match must reset p
			p.n = 4
			v, res := rt.Match(tc.method, tc.host, tc.path, &p)
			if tc.exp == "" {
				assert.Equal(t, tc.expRes, res)
				assert.Nil(t, v)
				assert.Zero(t, p.Len())
				return
			}
			require.Equal(t, Matched, res)
			assert.Equal(t, tc.exp, v)
			var got []param
			for i := 0; i < p.Len(); i++ {
				got = append(got, param{p.Name(i), p.Value(i)})
			}
			assert.Equal(t, tc.expParam, got)
			for _, want := range tc.expParam {
				val, ok := p.Get(want.name)
				assert.True(t, ok)
				assert.Equal(t, want.value, val)
			}
			_, ok := p.Get("nope")
			assert.False(t, ok)
		})
	}
}

func TestMatchNilParams(t *testing.T) {
	rt, err := New([]Route{{Method: "GET", Path: "/users/{id}", Value: 1}})
	require.NoError(t, err)
	v, res := rt.Match("GET", "h", "/users/1", nil)
	assert.Equal(t, Matched, res)
	assert.Equal(t, 1, v)
}

func TestMatchEmptyRouter(t *testing.T) {
	rt, err := New(nil)
	require.NoError(t, err)
	v, res := rt.Match("GET", "example.com", "/", nil)
	assert.Equal(t, NotFound, res)
	assert.Nil(t, v)
	assert.Empty(t, rt.Allowed("example.com", "/"))
}

func TestMatchNotFound(t *testing.T) {
	rt, err := New([]Route{
		{Method: "GET", Path: "/users/{id}", Value: 1},
		{Method: "GET", Path: "/files/{proxy+}", Value: 2},
		{Method: "GET", Host: "api.example.com", Path: "/only", Value: 3},
		{Method: "GET", Host: "*.example.com", Path: "/wild", Value: 4},
	})
	require.NoError(t, err)
	for _, tc := range []struct{ name, host, path string }{
		{name: "unknown literal", path: "/nope"},
		{name: "param does not match empty segment", path: "/users/"},
		{name: "too deep for param", path: "/users/1/x"},
		{name: "greedy needs a segment", path: "/files/"},
		{name: "greedy parent", path: "/files"},
		{name: "exact host route on other host", host: "www.example.com", path: "/only"},
		{name: "wildcard route on bare domain", host: "example.com", path: "/wild"},
		{name: "wildcard route on other domain", host: "x.example.org", path: "/wild"},
		{name: "exact host route without host", path: "/only"},
		{name: "host too long", host: strings.Repeat("a", 300) + ".example.com", path: "/wild"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, res := rt.Match("GET", tc.host, tc.path, nil)
			assert.Equal(t, NotFound, res)
			assert.Nil(t, v)
		})
	}
}

// withoutCatchAll is routeSet without "ANY /{proxy+}", which would take every
// request that nothing else matches.
func withoutCatchAll() []Route {
	var routes []Route
	for _, r := range routeSet() {
		if r.Value != "ANY /{proxy+}" {
			routes = append(routes, r)
		}
	}
	return routes
}

func TestMatchMethodNotAllowed(t *testing.T) {
	rt, err := New(withoutCatchAll())
	require.NoError(t, err)
	tests := []struct {
		name   string
		method string
		host   string
		path   string
		expRes Result
	}{
		{name: "literal", method: "DELETE", path: "/users", expRes: MethodNotAllowed},
		{name: "root", method: "POST", path: "/", expRes: MethodNotAllowed},
		{name: "trailing slash", method: "POST", path: "/users/", expRes: MethodNotAllowed},
		{name: "head not served by get", method: "HEAD", path: "/only-get", expRes: MethodNotAllowed},
		{name: "get not served by head", method: "GET", path: "/head", expRes: MethodNotAllowed},
		{name: "unknown method", method: "TRACE", path: "/users", expRes: MethodNotAllowed},
		{name: "param", method: "POST", path: "/orders/1", expRes: MethodNotAllowed},
		{name: "exact host", method: "PUT", host: "api.example.com", path: "/exact-post", expRes: MethodNotAllowed},
		{name: "wildcard host", method: "PUT", host: "a.example.com", path: "/wild-only", expRes: MethodNotAllowed},
		{name: "exact host route invisible elsewhere", method: "PUT", host: "b.test", path: "/exact-post", expRes: NotFound},
		{name: "unknown path", method: "GET", path: "/nope", expRes: NotFound},
		{name: "greedy", method: "POST", host: "other.test", path: "/x/y", expRes: MethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Params
			v, res := rt.Match(tc.method, tc.host, tc.path, &p)
			assert.Equal(t, tc.expRes, res)
			assert.Nil(t, v)
			assert.Zero(t, p.Len())
		})
	}
}

func TestAllowed(t *testing.T) {
	rt, err := New(withoutCatchAll())
	require.NoError(t, err)
	tests := []struct {
		name string
		host string
		path string
		exp  []string
	}{
		{name: "literal", path: "/users", exp: []string{"GET", "POST"}},
		{name: "root", path: "/", exp: []string{"GET"}},
		{name: "param shared node", path: "/orders/5", exp: []string{"GET", "OPTIONS"}},
		{name: "head only", path: "/head", exp: []string{"HEAD"}},
		{name: "exact host adds its methods", host: "api.example.com:443", path: "/users", exp: []string{"GET", "POST"}},
		{name: "exact host only route", host: "api.example.com", path: "/exact-post", exp: []string{"POST"}},
		{name: "any route lists every method", path: "/users/42", exp: []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}},
		{name: "host greedy and any-host param", host: "other.test", path: "/orders/5/items", exp: []string{"GET", "PATCH"}},
		{name: "wildcards and exact together", host: "x.b.example.com", path: "/users", exp: []string{"GET", "POST"}},
		{name: "not found", path: "/nope", exp: nil},
		{name: "not absolute", path: "x", exp: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exp, rt.Allowed(tc.host, tc.path))
		})
	}
}

// TestAllowedAgreesWithMatch checks that Allowed lists exactly the methods
// Match accepts, and that Match answers 405 exactly when some but not all
// methods are accepted.
func TestAllowedAgreesWithMatch(t *testing.T) {
	rt, err := New(withoutCatchAll())
	require.NoError(t, err)
	all := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	for _, host := range []string{"", "api.example.com", "x.b.example.com", "www.example.com"} {
		for _, path := range []string{"/", "/users", "/users/", "/users/me", "/users/1", "/users/me/posts", "/orders/1", "/orders/1/items", "/head", "/put/1", "/files/special", "/nope"} {
			var accepted []string
			for _, m := range all {
				if _, res := rt.Match(m, host, path, nil); res == Matched {
					accepted = append(accepted, m)
				}
			}
			assert.Equal(t, accepted, rt.Allowed(host, path), "host %q path %q", host, path)
			_, res := rt.Match("TRACE", host, path, nil)
			switch {
			case len(accepted) == 0:
				assert.Equal(t, NotFound, res, "host %q path %q", host, path)
			case len(accepted) < len(all):
				assert.Equal(t, MethodNotAllowed, res, "host %q path %q", host, path)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		routes []Route
		exp    error
		expErr string
	}{
		{name: "unknown method", routes: []Route{{Method: "FETCH", Path: "/a"}}, exp: ErrBadMethod,
			expErr: `route "FETCH /a": bad method "FETCH": use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY`},
		{name: "empty method", routes: []Route{{Method: "", Path: "/a"}}, exp: ErrBadMethod},
		{name: "relative path", routes: []Route{{Method: "GET", Path: "a/b"}}, exp: ErrBadTemplate,
			expErr: `route "GET a/b": bad path template "a/b": must start with "/"`},
		{name: "empty path", routes: []Route{{Method: "GET", Path: ""}}, exp: ErrBadTemplate},
		{name: "double slash", routes: []Route{{Method: "GET", Path: "/a//b"}}, exp: ErrBadTemplate,
			expErr: `route "GET /a//b": bad path template "/a//b": empty segment 2 ("//"); remove the extra "/"`},
		{name: "dot segment", routes: []Route{{Method: "GET", Path: "/a/./b"}}, exp: ErrBadTemplate,
			expErr: `route "GET /a/./b": bad path template "/a/./b": segment 2: dot segment "." never matches a normalised path; remove it`},
		{name: "dotdot segment", routes: []Route{{Method: "GET", Path: "/a/../b"}}, exp: ErrBadTemplate},
		{name: "encoded dotdot segment", routes: []Route{{Method: "GET", Path: "/a/%2e%2e"}}, exp: ErrBadTemplate},
		{name: "encoded slash literal", routes: []Route{{Method: "GET", Path: "/a%2Fb"}}, exp: ErrEncodedSlash},
		{name: "bad escape literal", routes: []Route{{Method: "GET", Path: "/a%zz"}}, exp: ErrBadEscape,
			expErr: `route "GET /a%zz": bad path template "/a%zz": segment 1: bad request path: malformed percent-encoding "%zz" at offset 2; write "%" as "%25" and escapes as "%" followed by two hex digits`},
		{name: "partial param", routes: []Route{{Method: "GET", Path: "/users/id-{id}"}}, exp: ErrBadTemplate,
			expErr: `route "GET /users/id-{id}": bad path template "/users/id-{id}": segment 2 "id-{id}": a parameter must be a whole segment, as in "/users/{id}"`},
		{name: "unclosed param", routes: []Route{{Method: "GET", Path: "/users/{id"}}, exp: ErrBadTemplate},
		{name: "empty param", routes: []Route{{Method: "GET", Path: "/users/{}"}}, exp: ErrBadTemplate,
			expErr: `route "GET /users/{}": bad path template "/users/{}": parameter name "" in segment 2 must be non-empty and use only letters, digits, "_" and "-"`},
		{name: "bad param name", routes: []Route{{Method: "GET", Path: "/users/{a.b}"}}, exp: ErrBadTemplate},
		{name: "nested braces", routes: []Route{{Method: "GET", Path: "/users/{{id}}"}}, exp: ErrBadTemplate},
		{name: "duplicate param name", routes: []Route{{Method: "GET", Path: "/a/{id}/b/{id}"}}, exp: ErrBadTemplate,
			expErr: `route "GET /a/{id}/b/{id}": bad path template "/a/{id}/b/{id}": parameter {id} appears twice; give each parameter its own name`},
		{name: "greedy not last", routes: []Route{{Method: "GET", Path: "/a/{proxy+}/b"}}, exp: ErrBadTemplate,
			expErr: `route "GET /a/{proxy+}/b": bad path template "/a/{proxy+}/b": greedy parameter {proxy+} must be the last segment, without a trailing "/"`},
		{name: "greedy trailing slash", routes: []Route{{Method: "GET", Path: "/a/{proxy+}/"}}, exp: ErrBadTemplate},
		{name: "greedy empty name", routes: []Route{{Method: "GET", Path: "/a/{+}"}}, exp: ErrBadTemplate},
		{name: "too many params", routes: []Route{{Method: "GET", Path: "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p}/{q}"}}, exp: ErrBadTemplate},
		{name: "host with port", routes: []Route{{Method: "GET", Host: "api.example.com:8080", Path: "/a"}}, exp: ErrBadHost,
			expErr: `route "GET api.example.com:8080/a": bad host "api.example.com:8080": has a port; ports are ignored when matching, remove it`},
		{name: "lone star host", routes: []Route{{Method: "GET", Host: "*", Path: "/a"}}, exp: ErrBadHost},
		{name: "star inside host", routes: []Route{{Method: "GET", Host: "api.*.com", Path: "/a"}}, exp: ErrBadHost,
			expErr: `route "GET api.*.com/a": bad host "api.*.com": "*" is allowed only as the whole first label, as in "*.example.com"`},
		{name: "star without dot", routes: []Route{{Method: "GET", Host: "*example.com", Path: "/a"}}, exp: ErrBadHost},
		{name: "empty label", routes: []Route{{Method: "GET", Host: "a..b", Path: "/a"}}, exp: ErrBadHost},
		{name: "host with slash", routes: []Route{{Method: "GET", Host: "a/b", Path: "/a"}}, exp: ErrBadHost},
		{name: "bad ipv6", routes: []Route{{Method: "GET", Host: "[::1", Path: "/a"}}, exp: ErrBadHost},
		{name: "host too long", routes: []Route{{Method: "GET", Host: strings.Repeat("a", 256), Path: "/a"}}, exp: ErrBadHost},
		{name: "duplicate", routes: []Route{{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/a"}}, exp: ErrDuplicateRoute,
			expErr: `route "GET /a": duplicate route: same method, host and path shape as route "GET /a" (number 1); remove one or change its path`},
		{name: "duplicate shape different param names", routes: []Route{{Method: "GET", Path: "/u/{id}"}, {Method: "GET", Path: "/u/{name}"}}, exp: ErrDuplicateRoute},
		{name: "duplicate greedy", routes: []Route{{Method: "GET", Path: "/u/{a+}"}, {Method: "GET", Path: "/u/{b+}"}}, exp: ErrDuplicateRoute},
		{name: "duplicate any", routes: []Route{{Method: "ANY", Path: "/a"}, {Method: "any", Path: "/a"}}, exp: ErrDuplicateRoute},
		{name: "duplicate host case", routes: []Route{{Method: "GET", Host: "A.com", Path: "/a"}, {Method: "GET", Host: "a.com.", Path: "/a"}}, exp: ErrDuplicateRoute},
		{name: "duplicate canonical literal", routes: []Route{{Method: "GET", Path: "/caf%c3%a9"}, {Method: "GET", Path: "/café"}}, exp: ErrDuplicateRoute},
		{name: "duplicate lower case method", routes: []Route{{Method: "get", Path: "/a"}, {Method: "GET", Path: "/a"}}, exp: ErrDuplicateRoute},
		{name: "duplicate unreserved escape", routes: []Route{{Method: "GET", Path: "/~a"}, {Method: "GET", Path: "/%7Ea"}}, exp: ErrDuplicateRoute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := New(tc.routes)
			require.Error(t, err)
			assert.Nil(t, rt)
			assert.ErrorIs(t, err, tc.exp)
			var re *RouteError
			require.True(t, errors.As(err, &re))
			assert.Equal(t, len(tc.routes)-1, re.Index)
			if tc.expErr != "" {
				assert.EqualError(t, err, tc.expErr)
			}
		})
	}
}

func TestNewReportsEveryBadRoute(t *testing.T) {
	_, err := New([]Route{
		{Method: "GET", Path: "/ok"},
		{Method: "BREW", Path: "/a"},
		{Method: "GET", Path: "/ok"},
		{Method: "GET", Path: "b"},
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBadMethod)
	assert.ErrorIs(t, err, ErrDuplicateRoute)
	assert.ErrorIs(t, err, ErrBadTemplate)
	assert.Equal(t, 3, strings.Count(err.Error(), "\n")+1)
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name   string
		routes []Route
	}{
		{name: "same path different methods", routes: []Route{{Method: "GET", Path: "/a"}, {Method: "POST", Path: "/a"}, {Method: "ANY", Path: "/a"}}},
		{name: "same path different hosts", routes: []Route{{Method: "GET", Path: "/a"}, {Method: "GET", Host: "a.com", Path: "/a"}, {Method: "GET", Host: "*.a.com", Path: "/a"}}},
		{name: "trailing slash distinct", routes: []Route{{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/a/"}}},
		{name: "param and greedy siblings", routes: []Route{{Method: "GET", Path: "/a/{id}"}, {Method: "GET", Path: "/a/{proxy+}"}}},
		{name: "lower case method", routes: []Route{{Method: "get", Path: "/a"}}},
		{name: "names with dash and underscore", routes: []Route{{Method: "GET", Path: "/{user-id}/{post_id}"}}},
		{name: "ipv6 host", routes: []Route{{Method: "GET", Host: "[2001:db8::1]", Path: "/a"}}},
		{name: "max params", routes: []Route{{Method: "GET", Path: "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p+}"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.routes)
			require.NoError(t, err)
		})
	}
}

func TestMatchMaxParams(t *testing.T) {
	rt, err := New([]Route{{Method: "GET", Path: "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p+}", Value: 1}})
	require.NoError(t, err)
	var p Params
	_, res := rt.Match("GET", "", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/", &p)
	require.Equal(t, Matched, res)
	require.Equal(t, MaxParams, p.Len())
	assert.Equal(t, "a", p.Name(0))
	assert.Equal(t, "1", p.Value(0))
	assert.Equal(t, "p", p.Name(15))
	assert.Equal(t, "16/17/", p.Value(15))
}

func TestMatchDoesNotAllocate(t *testing.T) {
	rt, err := New(routeSet())
	require.NoError(t, err)
	var p Params
	for _, tc := range []struct{ method, host, path string }{
		{"GET", "api.example.com", "/users/7/posts/9"},
		{"GET", "A.B.Example.com:8080", "/users"},
		{"DELETE", "", "/users"},
		{"GET", "x", "/nope/deep/er"},
	} {
		allocs := testing.AllocsPerRun(100, func() { rt.Match(tc.method, tc.host, tc.path, &p) })
		assert.Zero(t, allocs, "%s %s%s", tc.method, tc.host, tc.path)
	}
}

func TestResultString(t *testing.T) {
	assert.Equal(t, "NotFound", NotFound.String())
	assert.Equal(t, "Matched", Matched.String())
	assert.Equal(t, "MethodNotAllowed", MethodNotAllowed.String())
	assert.Equal(t, "Result(9)", Result(9).String())
}

func TestParamNames(t *testing.T) {
	names, err := ParamNames("/users/{id}/files/{proxy+}")
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "proxy"}, names)
	names, err = ParamNames("/static")
	require.NoError(t, err)
	assert.Empty(t, names)
	_, err = ParamNames("/a/{x")
	assert.ErrorIs(t, err, ErrBadTemplate)
}

// FuzzMatch checks that Match never panics on any input, agrees with Allowed,
// and captures parameters that are pieces of the path.
func FuzzMatch(f *testing.F) {
	for _, r := range routeSet() {
		f.Add("GET", r.Host, r.Path)
	}
	f.Add("PUT", "A.B.example.com.:1", "/users/1/posts/")
	f.Add("X", "[::1", "//a//")
	rt, err := New(withoutCatchAll())
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, method, host, path string) {
		var p Params
		_, res := rt.Match(method, host, path, &p)
		allowed := rt.Allowed(host, path)
		switch res {
		case NotFound:
			require.Empty(t, allowed)
		case MethodNotAllowed:
			require.NotEmpty(t, allowed)
			require.NotContains(t, allowed, method)
		case Matched:
			if methodSlot(method) >= 0 {
				require.Contains(t, allowed, method)
			}
			for i := 0; i < p.Len(); i++ {
				require.NotEmpty(t, p.Value(i))
				require.Contains(t, path, p.Value(i))
			}
		}
	})
}
