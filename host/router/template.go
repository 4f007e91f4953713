package router

import (
	"fmt"
	"strings"
)

// MaxParams is the most parameters (including a final greedy one) one route
// template may have; it sizes Params.
const MaxParams = 16

type segKind uint8

const (
	segLiteral segKind = iota
	segParam
	segGreedy
)

// segment is one parsed template segment. text is the canonical literal, or
// the parameter name without braces and "+". The empty literal stands for a
// trailing slash (and for the root path "/").
type segment struct {
	kind segKind
	text string
}

// parseTemplate splits a route path template into segments. See the package
// documentation for the syntax.
func parseTemplate(tpl string) ([]segment, error) {
	if !strings.HasPrefix(tpl, "/") {
		return nil, fmt.Errorf("%w %q: must start with \"/\"", ErrBadTemplate, tpl)
	}
	parts := strings.Split(tpl[1:], "/")
	segs := make([]segment, 0, len(parts))
	var names []string
	for i, part := range parts {
		last := i == len(parts)-1
		pos := i + 1
		switch {
		case part == "" && !last:
			return nil, fmt.Errorf("%w %q: empty segment %d (\"//\"); remove the extra \"/\"", ErrBadTemplate, tpl, pos)
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			kind := segParam
			if strings.HasSuffix(name, "+") {
				kind = segGreedy
				name = name[:len(name)-1]
				if !last {
					return nil, fmt.Errorf("%w %q: greedy parameter {%s+} must be the last segment, without a trailing \"/\"", ErrBadTemplate, tpl, name)
				}
			}
			if !validParamName(name) {
				return nil, fmt.Errorf("%w %q: parameter name %q in segment %d must be non-empty and use only letters, digits, \"_\" and \"-\"", ErrBadTemplate, tpl, name, pos)
			}
			for _, n := range names {
				if n == name {
					return nil, fmt.Errorf("%w %q: parameter {%s} appears twice; give each parameter its own name", ErrBadTemplate, tpl, name)
				}
			}
			names = append(names, name)
			if len(names) > MaxParams {
				return nil, fmt.Errorf("%w %q: more than %d parameters", ErrBadTemplate, tpl, MaxParams)
			}
			segs = append(segs, segment{kind: kind, text: name})
		case strings.ContainsAny(part, "{}"):
			return nil, fmt.Errorf("%w %q: segment %d %q: a parameter must be a whole segment, as in \"/users/{id}\"", ErrBadTemplate, tpl, pos, part)
		default:
			lit, err := canonicalSegment(part)
			if err != nil {
				return nil, fmt.Errorf("%w %q: segment %d: %w", ErrBadTemplate, tpl, pos, err)
			}
			segs = append(segs, segment{kind: segLiteral, text: lit})
		}
	}
	return segs, nil
}

// canonicalSegment returns the canonical encoding of one literal template
// segment, so that "/café" and "/caf%c3%a9" both match the request path
// "/caf%C3%A9".
func canonicalSegment(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	n, err := Normalize("/" + s)
	if err != nil {
		return "", err
	}
	if lit := n[1:]; lit != "" && !isDotSegment(s) {
		return lit, nil
	}
	return "", fmt.Errorf("dot segment %q never matches a normalised path; remove it", s)
}

// validParamName reports whether s is a usable parameter name.
func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParamNames returns the parameter names of a route path template, in order,
// without braces or "+" ("/users/{id}/{proxy+}" gives ["id", "proxy"]). Config
// validation uses it to check that an upstream path refers only to parameters
// its route captures.
func ParamNames(template string) ([]string, error) {
	segs, err := parseTemplate(template)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range segs {
		if s.kind != segLiteral {
			names = append(names, s.text)
		}
	}
	return names, nil
}
