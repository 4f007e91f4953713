package router

import (
	"fmt"
	"net/url"
)

// Params holds the parameters captured by a match. It is a fixed-size value
// meant to be reused (for example from a sync.Pool): Match resets it and fills
// it without allocating. Values are substrings of the matched path, in its
// canonical percent-encoded form; use Unescape for the decoded text.
//
// The zero Params is empty and ready to use.
type Params struct {
	n      int
	names  [MaxParams]string
	values [MaxParams]string
}

// Reset empties p.
func (p *Params) Reset() {
	clear(p.names[:p.n])
	clear(p.values[:p.n])
	p.n = 0
}

// Len returns the number of captured parameters.
func (p *Params) Len() int { return p.n }

// Name returns the name of the i-th parameter (without braces or "+"), in
// template order. It panics if i is out of range.
func (p *Params) Name(i int) string { return p.names[:p.n][i] }

// Value returns the value of the i-th parameter. It panics if i is out of
// range.
func (p *Params) Value(i int) string { return p.values[:p.n][i] }

// Get returns the value of the parameter called name (for a greedy
// "{proxy+}", name is "proxy") and whether the route has it.
func (p *Params) Get(name string) (string, bool) {
	for i := 0; i < p.n; i++ {
		if p.names[i] == name {
			return p.values[i], true
		}
	}
	return "", false
}

// Unescape decodes the percent-encoding of a parameter value ("caf%C3%A9"
// gives "café"). Values captured from a path that Normalize returned always
// decode, and never contain an encoded "/" or "\"; the error is for other
// input.
func Unescape(value string) (string, error) {
	s, err := url.PathUnescape(value)
	if err != nil {
		return "", fmt.Errorf("unescape parameter value: %w", err)
	}
	return s, nil
}
