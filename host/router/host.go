package router

import (
	"fmt"
	"strings"
)

// maxHostLen bounds host patterns (a DNS name is at most 253 bytes; a
// bracketed IPv6 literal with a zone fits too). Longer request hosts cannot
// match an exact or wildcard pattern.
const maxHostLen = 255

type hostKind uint8

const (
	hostAny hostKind = iota
	hostExact
	hostWildcard
)

// parseHost validates a route's host pattern and returns its kind and key: the
// lower-case host for hostExact, the lower-case suffix with its leading dot
// (".example.com") for hostWildcard.
func parseHost(h string) (hostKind, string, error) {
	if h == "" {
		return hostAny, "", nil
	}
	key := strings.ToLower(strings.TrimSuffix(h, "."))
	kind := hostExact
	if strings.HasPrefix(key, "*.") {
		kind = hostWildcard
		key = key[1:]
	}
	name := strings.TrimPrefix(key, ".")
	switch {
	case key == "*":
		return 0, "", fmt.Errorf("%w %q: a lone \"*\" is not a pattern; use \"\" for any host or \"*.example.com\" for subdomains", ErrBadHost, h)
	case strings.Contains(key, "*"):
		return 0, "", fmt.Errorf("%w %q: \"*\" is allowed only as the whole first label, as in \"*.example.com\"", ErrBadHost, h)
	case len(key) > maxHostLen:
		return 0, "", fmt.Errorf("%w %q: longer than %d bytes", ErrBadHost, h, maxHostLen)
	case name == "" || strings.HasPrefix(name, ".") || strings.Contains(name, ".."):
		return 0, "", fmt.Errorf("%w %q: empty label; write a name such as \"api.example.com\"", ErrBadHost, h)
	}
	if strings.HasPrefix(name, "[") {
		if kind == hostWildcard || !strings.HasSuffix(name, "]") || strings.ContainsAny(name[1:len(name)-1], "[]/") {
			return 0, "", fmt.Errorf("%w %q: an IPv6 literal is written \"[2001:db8::1]\", without a port", ErrBadHost, h)
		}
		return kind, key, nil
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == ':':
			return 0, "", fmt.Errorf("%w %q: has a port; ports are ignored when matching, remove it", ErrBadHost, h)
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return 0, "", fmt.Errorf("%w %q: character %q is not allowed; use letters, digits, \"-\", \"_\" and \".\"", ErrBadHost, h, c)
		}
	}
	return kind, key, nil
}

// lowerHost writes the host part of a request Host (port and one trailing dot
// removed) into buf in lower case and returns its length, or -1 when it is
// empty or does not fit.
func lowerHost(buf *[maxHostLen]byte, host string) int {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			host = host[:i+1]
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	if len(host) == 0 || len(host) > maxHostLen {
		return -1
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return len(host)
}
