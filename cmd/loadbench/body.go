package main

import (
	"fmt"
	"slices"
	"strings"
)

// bodyFile is a request body from --body. A target with one sends it as a
// POST with Content-Type: application/json on every request; the zero value
// (Data nil) means GET.
type bodyFile struct {
	Source string // FILE or builtin:NAME, as given
	Data   []byte
}

// readBody reads a request body from a file, or from the compiled-in testdata/
// for builtin:NAME. An empty file is an error: it would be a POST without a
// body, which is not what anyone benchmarking a body means.
func readBody(source string) (bodyFile, error) {
	b, err := readFileOrBuiltin("request body", source)
	if err != nil {
		return bodyFile{}, err
	}
	if len(b) == 0 {
		return bodyFile{}, fmt.Errorf("request body %s is empty", source)
	}
	return bodyFile{Source: source, Data: b}, nil
}

// parseBodies parses the --body values, name=FILE or name=builtin:NAME, and
// reads each file. Every name must be one of targets.
func parseBodies(values, targets []string) (map[string]bodyFile, error) {
	bodies := map[string]bodyFile{}
	for _, v := range values {
		name, source, ok := strings.Cut(v, "=")
		if !ok || name == "" || source == "" {
			return nil, fmt.Errorf("--body %q: want name=FILE or name=builtin:NAME, e.g. validated=builtin:order2k.json", v)
		}
		if !slices.Contains(targets, name) {
			return nil, fmt.Errorf("--body %q: there is no target %q; the targets are %s", v, name, strings.Join(targets, ", "))
		}
		if _, dup := bodies[name]; dup {
			return nil, fmt.Errorf("--body %q: target %q already has a body", v, name)
		}
		b, err := readBody(source)
		if err != nil {
			return nil, fmt.Errorf("--body %q: %w", v, err)
		}
		bodies[name] = b
	}
	return bodies, nil
}
