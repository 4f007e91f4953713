package main

import (
	"embed"
	"fmt"
	"os"
	"strings"
)

// builtinFiles are the gateway config templates and request bodies in
// testdata/, compiled in so that `loadbench run` works from any directory.
//
//go:embed testdata/*.hcl testdata/*.json
var builtinFiles embed.FS

// builtinPrefix marks a --target template or a --body file that names a
// compiled-in file of testdata/ rather than a path on disk, e.g.
// "builtin:gateway.hcl".
const builtinPrefix = "builtin:"

// The placeholders a gateway config template may use.
const (
	placeholderBackendURL = "${BACKEND_URL}" // http://ADDR of the benchmark backend
	placeholderListen     = "${LISTEN}"      // host:port the gateway must serve on
	placeholderAdmin      = "${ADMIN}"       // host:port for the admin listener
)

// templateVars are the values substituted into a gateway config template.
type templateVars struct {
	BackendURL string
	Listen     string
	Admin      string
}

// renderTemplate substitutes the placeholders in a gateway config template.
// Other ${...} sequences are HCL's own template syntax and are left alone. The
// template must use ${LISTEN}: the benchmark has to know where the gateway serves.
func renderTemplate(name, tmpl string, v templateVars) (string, error) {
	if !strings.Contains(tmpl, placeholderListen) {
		return "", fmt.Errorf("config template %s does not use %s; put listen = [%q] in its gateway block so the benchmark knows where to send load",
			name, placeholderListen, placeholderListen)
	}
	r := strings.NewReplacer(
		placeholderBackendURL, v.BackendURL,
		placeholderListen, v.Listen,
		placeholderAdmin, v.Admin,
	)
	return r.Replace(tmpl), nil
}

// readTemplate reads a template from disk, or from the compiled-in testdata/
// when name starts with builtinPrefix.
func readTemplate(name string) (string, error) {
	b, err := readFileOrBuiltin("config template", name)
	return string(b), err
}

// readFileOrBuiltin reads the file name, or the compiled-in testdata/ file
// when name starts with builtinPrefix; what names the kind of file in errors.
func readFileOrBuiltin(what, name string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(name, builtinPrefix); ok {
		b, err := builtinFiles.ReadFile("testdata/" + rest)
		if err != nil {
			return nil, fmt.Errorf("read built-in %s %q: %w; the built-in ones are in cmd/loadbench/testdata", what, rest, err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return b, nil
}

// target is one thing the benchmark sends load to.
type target struct {
	Name     string
	Template string // gateway config template; "" for the built-in direct and bareproxy targets
	Path     string // request path and query, e.g. "/plain"
}

// parseTarget parses a --target value: name=template.hcl[:path]. The path
// defaults to "/".
func parseTarget(s string) (target, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" || rest == "" {
		return target{}, fmt.Errorf("--target %q: want name=template.hcl[:/path], e.g. plain=cmd/loadbench/testdata/gateway.hcl:/plain", s)
	}
	if name == targetDirect || name == targetBareproxy {
		return target{}, fmt.Errorf("--target %q: the name %q is reserved for the built-in baseline; choose another", s, name)
	}
	tmpl, path := rest, "/"
	if i := strings.LastIndex(rest, ":/"); i >= 0 {
		tmpl, path = rest[:i], rest[i+1:]
	}
	if tmpl == "" || tmpl == builtinPrefix {
		return target{}, fmt.Errorf("--target %q: the template path is empty; want name=template.hcl[:/path]", s)
	}
	return target{Name: name, Template: tmpl, Path: path}, nil
}
