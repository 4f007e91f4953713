package router

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		exp  string
	}{
		{name: "root", in: "/", exp: "/"},
		{name: "canonical", in: "/users/42", exp: "/users/42"},
		{name: "canonical trailing slash", in: "/a/b/", exp: "/a/b/"},
		{name: "canonical escapes", in: "/caf%C3%A9/%20x", exp: "/caf%C3%A9/%20x"},
		{name: "sub-delims and colon at kept", in: "/a;b=c/!$&'()*+,:@", exp: "/a;b=c/!$&'()*+,:@"},

		// Slashes.
		{name: "double slash", in: "//", exp: "/"},
		{name: "double slash inside", in: "/a//b", exp: "/a/b"},
		{name: "many slashes", in: "///a////b///", exp: "/a/b/"},
		{name: "leading double slash is not authority", in: "//evil.com/x", exp: "/evil.com/x"},

		// Dot segments.
		{name: "dot", in: "/./a", exp: "/a"},
		{name: "dot inside", in: "/a/./b", exp: "/a/b"},
		{name: "dotdot", in: "/a/../b", exp: "/b"},
		{name: "dotdot above root", in: "/../a", exp: "/a"},
		{name: "dotdot far above root", in: "/../../../etc/passwd", exp: "/etc/passwd"},
		{name: "dotdot only", in: "/..", exp: "/"},
		{name: "dot only", in: "/.", exp: "/"},
		{name: "trailing dot keeps slash", in: "/a/b/.", exp: "/a/b/"},
		{name: "trailing dotdot keeps slash", in: "/a/b/..", exp: "/a/"},
		{name: "trailing dotdot to root", in: "/a/..", exp: "/"},
		{name: "trailing empty after dotdot", in: "/a/b/../", exp: "/a/"},
		{name: "double slash then dotdot", in: "/a//../b", exp: "/b"},
		{name: "dotdot after double slash segment", in: "/a/b//..//c", exp: "/a/c"},
		{name: "three dots is a name", in: "/a/.../b", exp: "/a/.../b"},
		{name: "dot prefix is a name", in: "/a/.b/..c", exp: "/a/.b/..c"},

		// Encoded dots: decoded before dot segments are removed.
		{name: "encoded dotdot lower", in: "/a/%2e%2e/b", exp: "/b"},
		{name: "encoded dotdot upper", in: "/a/%2E%2E/b", exp: "/b"},
		{name: "encoded dotdot mixed", in: "/a/%2E./b", exp: "/b"},
		{name: "encoded dotdot mixed other", in: "/a/.%2e/b", exp: "/b"},
		{name: "encoded dot", in: "/a/%2e/b", exp: "/a/b"},
		{name: "encoded traversal", in: "/static/%2e%2e/%2e%2e/admin", exp: "/admin"},
		{name: "encoded dotdot trailing", in: "/a/b/%2e%2e", exp: "/a/"},

		// Semicolon path parameters stay literal.
		{name: "dotdot semicolon kept", in: "/a/..;/b", exp: "/a/..;/b"},
		{name: "semicolon segment", in: "/a;jsessionid=1/b", exp: "/a;jsessionid=1/b"},
		{name: "encoded semicolon kept encoded", in: "/a/..%3b/b", exp: "/a/..%3B/b"},

		// Unreserved escapes decoded; others upper-cased.
		{name: "encoded tilde", in: "/%7Euser", exp: "/~user"},
		{name: "encoded letters", in: "/%61%62%43", exp: "/abC"},
		{name: "encoded digits dash underscore", in: "/%30%2D%5F", exp: "/0-_"},
		{name: "lower hex upper-cased", in: "/caf%c3%a9", exp: "/caf%C3%A9"},
		{name: "mixed case hex", in: "/%3a%3A%3f", exp: "/%3A%3A%3F"},
		{name: "encoded percent kept", in: "/100%25", exp: "/100%25"},
		{name: "double encoded dot stays data", in: "/a/%252e%252e/b", exp: "/a/%252e%252e/b"},
		{name: "encoded space", in: "/a%20b", exp: "/a%20b"},
		{name: "unicode utf-8 kept encoded", in: "/%E2%9C%93/%f0%9f%98%80", exp: "/%E2%9C%93/%F0%9F%98%80"},

		// Raw bytes that need encoding.
		{name: "raw utf-8 encoded", in: "/café", exp: "/caf%C3%A9"},
		{name: "raw space encoded", in: "/a b", exp: "/a%20b"},
		{name: "raw specials encoded", in: "/\"<>^`{|}[]", exp: "/%22%3C%3E%5E%60%7B%7C%7D%5B%5D"},
		{name: "raw question and hash encoded", in: "/a?b#c", exp: "/a%3Fb%23c"},
		{name: "raw high byte", in: "/\xff", exp: "/%FF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.exp, got)
			again, err := Normalize(got)
			require.NoError(t, err)
			assert.Equal(t, got, again, "not idempotent")
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		exp    error
		expErr string
	}{
		{name: "empty", in: "", exp: ErrNotAbsolute,
			expErr: `bad request path: path does not start with "/"; send an absolute path such as "/users"`},
		{name: "relative", in: "a/b", exp: ErrNotAbsolute},
		{name: "asterisk", in: "*", exp: ErrNotAbsolute},
		{name: "absolute url", in: "http://x/a", exp: ErrNotAbsolute},

		{name: "bad hex", in: "/a%G1", exp: ErrBadEscape,
			expErr: `bad request path: malformed percent-encoding "%G1" at offset 2; write "%" as "%25" and escapes as "%" followed by two hex digits`},
		{name: "bad second hex", in: "/%2x", exp: ErrBadEscape},
		{name: "trailing percent", in: "/a%", exp: ErrBadEscape},
		{name: "trailing percent digit", in: "/a%2", exp: ErrBadEscape},
		{name: "percent percent", in: "/%%30", exp: ErrBadEscape},

		{name: "encoded slash", in: "/a%2fb", exp: ErrEncodedSlash,
			expErr: `bad request path: encoded slash "%2f" at offset 2; send "/" unencoded as a separator; encoded separators are refused so that no route can be bypassed`},
		{name: "encoded slash upper", in: "/a%2Fb", exp: ErrEncodedSlash},
		{name: "encoded traversal with slash", in: "/a/..%2f..%2fadmin", exp: ErrEncodedSlash},
		{name: "encoded backslash", in: "/a%5cb", exp: ErrEncodedSlash},
		{name: "encoded backslash upper", in: "/..%5C..%5Cwin", exp: ErrEncodedSlash},

		{name: "raw backslash", in: "/a\\b", exp: ErrBackslash,
			expErr: `bad request path: backslash "\\" at offset 2; use "/" as the separator, or encode the character as "%5C" inside a query string instead`},
		{name: "raw backslash traversal", in: "/a/..\\..\\b", exp: ErrBackslash},

		{name: "encoded nul", in: "/a%00.json", exp: ErrControlChar,
			expErr: `bad request path: control character "%00" at offset 2; remove control characters from the path`},
		{name: "raw nul", in: "/a\x00b", exp: ErrControlChar},
		{name: "encoded newline", in: "/a%0d%0aSet-Cookie:x", exp: ErrControlChar},
		{name: "raw tab", in: "/a\tb", exp: ErrControlChar},
		{name: "encoded del", in: "/a%7F", exp: ErrControlChar},
		{name: "raw del", in: "/a\x7f", exp: ErrControlChar},
		{name: "encoded unit separator", in: "/%1F", exp: ErrControlChar},
		{name: "error after dirty part still found", in: "/a//./%2e%2e/x%2F", exp: ErrEncodedSlash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			require.Error(t, err)
			assert.Empty(t, got)
			assert.ErrorIs(t, err, tc.exp)
			assert.ErrorIs(t, err, ErrBadPath)
			var pe *PathError
			require.True(t, errors.As(err, &pe))
			if tc.expErr != "" {
				assert.EqualError(t, err, tc.expErr)
			}
		})
	}
}

func TestNormalizeErrorDoesNotEchoLongInput(t *testing.T) {
	in := "/" + strings.Repeat("a", 1000) + "%2f" + strings.Repeat("b", 1000)
	_, err := Normalize(in)
	require.ErrorIs(t, err, ErrEncodedSlash)
	assert.Less(t, len(err.Error()), 300)
	assert.Contains(t, err.Error(), "offset 1001")
}

func TestNormalizeCanonicalReturnsInput(t *testing.T) {
	in := "/v1/users/42/orders/"
	allocs := testing.AllocsPerRun(100, func() {
		out, err := Normalize(in)
		if err != nil || out != in {
			t.Fatalf("Normalize(%q) = %q, %v", in, out, err)
		}
	})
	assert.Zero(t, allocs)
}

// checkNormal asserts the invariants of a Normalize result.
func checkNormal(t *testing.T, in, out string) {
	t.Helper()
	require.True(t, strings.HasPrefix(out, "/"), "Normalize(%q) = %q: no leading slash", in, out)
	for _, bad := range []string{"//", "/./", "/../", "\\"} {
		require.NotContains(t, out, bad, "Normalize(%q) = %q", in, out)
	}
	require.False(t, strings.HasSuffix(out, "/.") || strings.HasSuffix(out, "/.."), "Normalize(%q) = %q: ends in a dot segment", in, out)
	for i := 0; i < len(out); i++ {
		c := out[i]
		require.True(t, c == '/' || c == '%' || isPchar(c), "Normalize(%q) = %q: raw byte %q", in, out, c)
		if c != '%' {
			continue
		}
		require.Less(t, i+2, len(out), "Normalize(%q) = %q: short escape", in, out)
		hi, ok1 := unhex(out[i+1])
		lo, ok2 := unhex(out[i+2])
		require.True(t, ok1 && ok2, "Normalize(%q) = %q: bad escape", in, out)
		v := hi<<4 | lo
		require.False(t, isUnreserved(v), "Normalize(%q) = %q: encoded unreserved %q", in, out, out[i:i+3])
		require.Equal(t, strings.ToUpper(out[i:i+3]), out[i:i+3], "Normalize(%q) = %q: lower-case hex", in, out)
		require.False(t, v == '/' || v == '\\' || isControl(v), "Normalize(%q) = %q", in, out)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"/", "//", "/a/b/", "/a/./b/../c", "/a/%2e%2E/b", "/%2E./x", "/..;/admin", "/a%2fb",
		"/a%5Cb", "/a\\b", "/%00", "/caf%c3%a9", "/café", "/a b?c#d", "/%", "/%G1", "/../../..",
		"/a/b/.", "/a//..//b//", "/%7e%41", "", "x", "/%252e%252e/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Normalize(in)
		if err != nil {
			require.ErrorIs(t, err, ErrBadPath)
			require.Empty(t, out)
			return
		}
		checkNormal(t, in, out)
		again, err := Normalize(out)
		require.NoError(t, err, "Normalize(%q) = %q, which is refused", in, out)
		require.Equal(t, out, again, "not idempotent for %q", in)
	})
}
