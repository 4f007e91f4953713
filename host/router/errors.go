package router

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by Normalize, always inside a *PathError. Every one of them
// also matches ErrBadPath with errors.Is, so a caller can answer 400 Bad
// Request with a single check.
var (
	// ErrBadPath is the class of every Normalize error.
	ErrBadPath = errors.New("bad request path")
	// ErrNotAbsolute: the path is empty or does not start with "/".
	ErrNotAbsolute = errors.New("path does not start with \"/\"")
	// ErrBadEscape: a "%" is not followed by two hexadecimal digits.
	ErrBadEscape = errors.New("malformed percent-encoding")
	// ErrEncodedSlash: the path contains %2F or %5C (an encoded "/" or "\").
	ErrEncodedSlash = errors.New("encoded slash")
	// ErrBackslash: the path contains a raw "\".
	ErrBackslash = errors.New("backslash")
	// ErrControlChar: the path contains a control character (0x00-0x1F or
	// 0x7F), raw or percent-encoded.
	ErrControlChar = errors.New("control character")
)

// Errors returned by New, always inside a *RouteError.
var (
	// ErrBadTemplate: a route's path template is malformed.
	ErrBadTemplate = errors.New("bad path template")
	// ErrBadMethod: a route's method is not one the router knows.
	ErrBadMethod = errors.New("bad method")
	// ErrBadHost: a route's host pattern is malformed.
	ErrBadHost = errors.New("bad host")
	// ErrDuplicateRoute: two routes have the same method, host and path shape.
	ErrDuplicateRoute = errors.New("duplicate route")
)

// PathError reports why Normalize rejected a request path. Its message is safe
// to send to the client: it names the offending bytes and their offset but does
// not echo the whole path.
type PathError struct {
	// Offset is the byte offset of the problem in the path as received.
	Offset int
	// Text is the offending bytes, as received (e.g. "%2f" or "%G1").
	Text string
	// Err is one of ErrNotAbsolute, ErrBadEscape, ErrEncodedSlash,
	// ErrBackslash or ErrControlChar.
	Err error
}

// Error implements error.
func (e *PathError) Error() string {
	var fix string
	switch e.Err {
	case ErrNotAbsolute:
		return "bad request path: path does not start with \"/\"; send an absolute path such as \"/users\""
	case ErrBadEscape:
		fix = "write \"%\" as \"%25\" and escapes as \"%\" followed by two hex digits"
	case ErrEncodedSlash:
		fix = "send \"/\" unencoded as a separator; encoded separators are refused so that no route can be bypassed"
	case ErrBackslash:
		fix = "use \"/\" as the separator, or encode the character as \"%5C\" inside a query string instead"
	case ErrControlChar:
		fix = "remove control characters from the path"
	}
	return fmt.Sprintf("bad request path: %v %s at offset %d; %s", e.Err, quoteBytes(e.Text), e.Offset, fix)
}

// Unwrap returns the specific error and ErrBadPath, so that errors.Is matches
// both.
func (e *PathError) Unwrap() []error { return []error{e.Err, ErrBadPath} }

// quoteBytes quotes s like %q but keeps it short.
func quoteBytes(s string) string {
	const max = 8
	if len(s) > max {
		s = s[:max]
	}
	return fmt.Sprintf("%q", s)
}

// RouteError reports why New rejected a route.
type RouteError struct {
	// Index is the route's position in the slice given to New.
	Index int
	// Route is the rejected route.
	Route Route
	// Err is the cause; it wraps one of ErrBadTemplate, ErrBadMethod,
	// ErrBadHost or ErrDuplicateRoute.
	Err error
}

// Error implements error.
func (e *RouteError) Error() string {
	return fmt.Sprintf("route %q: %v", routeKey(e.Route), e.Err)
}

// Unwrap returns the cause.
func (e *RouteError) Unwrap() error { return e.Err }

// routeKey renders a route as "METHOD host/path" (or "METHOD /path" for any
// host), the way errors show it.
func routeKey(r Route) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte(' ')
	b.WriteString(r.Host)
	b.WriteString(r.Path)
	return b.String()
}
