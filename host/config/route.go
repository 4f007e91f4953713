package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// methods are the route methods; ANY matches every method.
func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY":
		return true
	}
	return false
}

// template is a parsed route path template.
type template struct {
	params []string // parameter names in order, without braces or "+"
	// shape is the path with every parameter replaced by "{}" (or "{+}" for a
	// greedy one): two routes with the same shape match the same paths.
	shape string
}

// parseTemplate checks a route path template: it starts with "/", has no empty
// segments, and each segment is a literal, a {param}, or, last only, {proxy+}.
// "/" alone is the root.
func parseTemplate(path string) (template, error) {
	var t template
	if !strings.HasPrefix(path, "/") {
		return t, fmt.Errorf("the path %q must start with \"/\"", path)
	}
	if path == "/" {
		t.shape = "/"
		return t, nil
	}
	segs := strings.Split(path[1:], "/")
	shape := make([]string, len(segs))
	seen := map[string]bool{}
	for i, seg := range segs {
		switch {
		case seg == "":
			return t, fmt.Errorf("the path %q has an empty segment (a doubled or trailing \"/\"); remove it", path)
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			name, greedy := strings.CutSuffix(seg[1:len(seg)-1], "+")
			if !validParamName(name) {
				return t, fmt.Errorf("%q is not a valid parameter; names are letters, digits and \"_\", such as {id} or {proxy+}", seg)
			}
			if greedy && i != len(segs)-1 {
				return t, fmt.Errorf("the greedy parameter %s must be the last segment of the path", seg)
			}
			if seen[name] {
				return t, fmt.Errorf("the parameter {%s} appears twice in %q; give each parameter its own name", name, path)
			}
			seen[name] = true
			t.params = append(t.params, name)
			shape[i] = "{}"
			if greedy {
				shape[i] = "{+}"
			}
		case strings.ContainsAny(seg, "{}"):
			return t, fmt.Errorf("the segment %q mixes text and a parameter; a parameter must be a whole segment, such as /users/{id}", seg)
		default:
			shape[i] = seg
		}
	}
	t.shape = "/" + strings.Join(shape, "/")
	return t, nil
}

// validParamName reports whether s is a path parameter name.
func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// validHost reports whether h is a route host: a DNS name, optionally with a
// leading "*." wildcard.
func validHost(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if c != '-' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// resolver decodes routes and APIs and resolves their references against the
// upstreams and plugins decoded before them.
type resolver struct {
	d      *decoder
	g      *Gateway
	routes map[string]*Route // by method, path shape and host
}

// plugins resolves pipeline references; owner names the referrer in diagnostics.
func (r *resolver) plugins(refs []pluginRef, owner string) []*Plugin {
	out := []*Plugin{}
	for _, ref := range refs {
		p, ok := r.g.PluginByName[ref.name]
		if !ok {
			r.d.errorf(ref.rng, "Unknown plugin",
				"%s refers to plugin %q, which is not defined. Add a plugin %q block or fix the name.", owner, ref.name, ref.name)
			continue
		}
		out = append(out, p)
	}
	return out
}

// api decodes an api block and its routes.
func (r *resolver) api(b *hcl.Block) {
	d := r.d
	idx := len(r.g.APIs)
	ptr := "/apis/" + strconv.Itoa(idx)
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "base_path"}, {Name: "host"}, {Name: "stage"}, {Name: "variables"}, {Name: "pipeline"},
			{Name: "rate_limit"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "route", LabelNames: []string{"key"}}},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	api := &API{Name: b.Labels[0], Variables: map[string]string{}, Range: b.DefRange}
	r.g.APIs = append(r.g.APIs, api)
	if at := a["base_path"]; at != nil {
		var bp string
		if _, ok := d.str(at, ptr+"/base_path", &bp); ok {
			t, err := parseTemplate(bp)
			switch {
			case bp == "" || bp == "/":
			case err != nil:
				d.errorf(at.Expr.Range(), "Invalid base path", "%s. Write a base path such as \"/v1\".", capitalize(err.Error()))
			case len(t.params) > 0:
				d.errorf(at.Expr.Range(), "Invalid base path", "The base path %q has parameters; a base path is literal segments only, such as \"/v1\".", bp)
			default:
				api.BasePath = bp
			}
		}
	}
	d.host(a["host"], ptr+"/host", &api.Host)
	d.str(a["stage"], ptr+"/stage", &api.Stage)
	d.stringMap(a["variables"], ptr+"/variables", &api.Variables)
	api.Pipeline = r.plugins(d.pipeline(a["pipeline"]), fmt.Sprintf("api %q", api.Name))
	api.RateLimit = r.rateLimitRef(a["rate_limit"], fmt.Sprintf("api %q", api.Name))
	for _, rb := range content.Blocks {
		r.route(rb, api)
	}
}

// host decodes a route or API host into dst, lower-cased.
func (d *decoder) host(a *hcl.Attribute, ptr string, dst *string) {
	var h string
	secret, ok := d.str(a, ptr, &h)
	if !ok {
		return
	}
	h = strings.ToLower(h)
	if h != "" && !validHost(h) {
		d.errorf(a.Expr.Range(), "Invalid host",
			"%s is not a host name. Write a name such as \"api.example.com\" or a wildcard such as \"*.example.com\", without scheme or port.", show(h, secret))
		return
	}
	*dst = h
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// route decodes a route block; api is its enclosing api block or nil.
func (r *resolver) route(b *hcl.Block, api *API) {
	d := r.d
	idx := len(r.g.Routes)
	ptr := "/routes/" + strconv.Itoa(idx)
	rt := &Route{API: api, Tunnel: DefaultTunnel, Range: b.DefRange}
	r.g.Routes = append(r.g.Routes, rt)

	label, labelRng := b.Labels[0], b.LabelRanges[0]
	var tmpl template
	keyOK := false
	method, path, found := strings.Cut(label, " ")
	switch {
	case !found || strings.TrimSpace(path) != path || path == "":
		d.errorf(labelRng, "Invalid route key",
			"%q is not a route key. Write the method, one space and the path, such as \"GET /users/{id}\".", label)
	case !validMethod(method) && validMethod(strings.ToUpper(method)):
		d.errorf(labelRng, "Invalid route key", "The method %q must be upper case: %q.", method, strings.ToUpper(method))
	case !validMethod(method):
		d.errorf(labelRng, "Invalid route key",
			"%q is not a route method. Use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY.", method)
	default:
		var err error
		if tmpl, err = parseTemplate(path); err != nil {
			d.errorf(labelRng, "Invalid route key", "In route %q, %s.", label, err)
		} else {
			keyOK = true
		}
	}
	rt.Method, rt.Path = method, path
	if api != nil && api.BasePath != "" && keyOK {
		if path == "/" {
			rt.Path = api.BasePath
		} else {
			rt.Path = api.BasePath + path
		}
		tmpl, _ = parseTemplate(rt.Path)
	}
	rt.Key = rt.Method + " " + rt.Path
	if api != nil {
		rt.Host = api.Host
	}

	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "upstream"}, {Name: "upstream_path"}, {Name: "host"}, {Name: "timeout"},
			{Name: "compression"}, {Name: "pipeline"}, {Name: "rate_limit"}, {Name: "function"},
			{Name: "upstreams"}, {Name: "sticky"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "request_headers"}, {Type: "response_headers"}, {Type: "mock"}, {Type: "cache"}, {Type: "websocket"}},
	})
	d.diags = append(d.diags, diags...)
	a := content.Attributes
	owner := fmt.Sprintf("route %q", rt.Key)

	d.host(a["host"], ptr+"/host", &rt.Host)
	d.duration(a["timeout"], ptr+"/timeout", &rt.Timeout)
	var comp bool
	if d.boolean(a["compression"], ptr+"/compression", &comp) {
		rt.Compression = &comp
	}
	rt.Pipeline = r.plugins(d.pipeline(a["pipeline"]), owner)
	rt.RateLimit = r.rateLimitRef(a["rate_limit"], owner)

	once := map[string]*hcl.Block{}
	var mockBlock *hcl.Block
	for _, hb := range content.Blocks {
		if prev, dup := once[hb.Type]; dup {
			d.errorf(hb.DefRange, "Duplicate "+hb.Type+" block",
				"Only one %s block is allowed in a route. Previous definition was at %s; merge the two.", hb.Type, posString(prev.DefRange))
			continue
		}
		once[hb.Type] = hb
		switch hb.Type {
		case "request_headers":
			rt.RequestHeaders = d.headerOps(hb, ptr+"/request_headers")
		case "response_headers":
			rt.ResponseHeaders = d.headerOps(hb, ptr+"/response_headers")
		case "mock":
			mockBlock = hb
			rt.Mock = d.mock(hb, ptr+"/mock")
		case "cache":
			rt.Cache = d.routeCache(hb, ptr+"/cache")
		case "websocket":
			rt.Tunnel = *d.tunnelBlock(hb, ptr+"/websocket")
		}
	}
	if rt.RequestHeaders.Set == nil {
		rt.RequestHeaders = emptyHeaderOps()
	}
	if rt.ResponseHeaders.Set == nil {
		rt.ResponseHeaders = emptyHeaderOps()
	}

	if at := a["upstream"]; at != nil {
		if name, ok := d.ref(at.Expr, "upstream", "users"); ok {
			if u, ok := r.g.UpstreamByName[name]; ok {
				rt.Upstream = u
			} else {
				d.errorf(at.Expr.Range(), "Unknown upstream",
					"%s refers to upstream %q, which is not defined. Add an upstream %q block or fix the name.", owner, name, name)
			}
		}
	}
	if at := a["function"]; at != nil {
		rt.Function = r.functionRef(at, owner)
	}
	if rt.Split = r.split(a["upstreams"], a["sticky"], ptr, owner); rt.Split != nil {
		if a["upstream"] != nil || mockBlock != nil {
			d.errorf(a["upstreams"].NameRange, "Conflicting integration",
				"%s sets upstreams and also upstream or a mock block; a route has exactly one integration, so remove one.", owner)
		} else {
			rt.Upstream = rt.Split.Upstreams[0].Upstream
		}
	}
	switch {
	case a["upstream"] == nil && mockBlock == nil && a["function"] == nil && a["upstreams"] == nil:
		d.errorf(b.DefRange, "Missing integration",
			"%s has neither upstream, function nor mock. Set upstream = upstream.NAME to proxy it, function = function.NAME to run a Wasm function, or add a mock block to answer it from the gateway.", owner)
	case a["upstream"] != nil && mockBlock != nil:
		d.errorf(mockBlock.DefRange, "Conflicting integration",
			"%s sets both upstream and a mock block; a route has exactly one integration, so remove one.", owner)
	case a["function"] != nil && (a["upstream"] != nil || mockBlock != nil):
		d.errorf(a["function"].NameRange, "Conflicting integration",
			"%s sets function together with upstream or a mock block; a route has exactly one integration, so remove one.", owner)
	}

	if at := a["upstream_path"]; at != nil {
		var up string
		if secret, ok := d.str(at, ptr+"/upstream_path", &up); ok {
			if keyOK && d.checkUpstreamPath(at, up, secret, tmpl, owner) {
				rt.UpstreamPath = up
			}
			if a["upstream"] == nil && mockBlock != nil {
				d.errorf(at.NameRange, "Unused upstream_path", "%s has a mock, so upstream_path does nothing; remove it.", owner)
			} else if a["upstream"] == nil && a["function"] != nil {
				d.errorf(at.NameRange, "Unused upstream_path", "%s has a function, so upstream_path does nothing; remove it.", owner)
			}
		}
	}

	if keyOK {
		key := rt.Method + " " + tmpl.shape + " " + rt.Host
		if prev, dup := r.routes[key]; dup {
			d.errorf(labelRng, "Duplicate route",
				"%s has the same method, path and host as route %q. Previous definition was at %s; change or remove one.", owner, prev.Key, posString(prev.Range))
		} else {
			r.routes[key] = rt
		}
	}
}

// checkUpstreamPath checks that an upstream_path starts with "/" and uses only
// the route's parameters, written {name} (or {name+} for a greedy one).
func (d *decoder) checkUpstreamPath(at *hcl.Attribute, up string, secret bool, tmpl template, owner string) bool {
	if !strings.HasPrefix(up, "/") {
		d.errorf(at.Expr.Range(), "Invalid upstream path", "%s must start with \"/\", such as \"/internal/users/{id}\".", show(up, secret))
		return false
	}
	ok := true
	rest := up
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			d.errorf(at.Expr.Range(), "Invalid upstream path", "%s has a \"{\" without a closing \"}\"; write parameters as {name}.", show(up, secret))
			return false
		}
		name := strings.TrimSuffix(rest[open+1:open+end], "+")
		rest = rest[open+end+1:]
		found := false
		for _, p := range tmpl.params {
			found = found || p == name
		}
		if !found {
			hint := "It has no parameters, so upstream_path must be a literal path."
			if len(tmpl.params) > 0 {
				names := make([]string, len(tmpl.params))
				for i, p := range tmpl.params {
					names[i] = "{" + p + "}"
				}
				hint = "Use " + strings.Join(names, ", ") + "."
			}
			d.errorf(at.Expr.Range(), "Unknown path parameter",
				"upstream_path uses {%s}, but %s has no such parameter. %s", name, owner, hint)
			ok = false
		}
	}
	return ok
}

// emptyHeaderOps returns HeaderOps with empty, non-nil collections.
func emptyHeaderOps() HeaderOps {
	return HeaderOps{Set: map[string]string{}, Add: map[string]string{}, Remove: []string{}}
}

// headerOps decodes a request_headers or response_headers block.
func (d *decoder) headerOps(b *hcl.Block, ptr string) HeaderOps {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "set"}, {Name: "add"}, {Name: "remove"},
	}})
	d.diags = append(d.diags, diags...)
	h := emptyHeaderOps()
	a := content.Attributes
	d.stringMap(a["set"], ptr+"/set", &h.Set)
	d.stringMap(a["add"], ptr+"/add", &h.Add)
	d.strings(a["remove"], ptr+"/remove", &h.Remove)
	for _, name := range []string{"set", "add"} {
		m := h.Set
		if name == "add" {
			m = h.Add
		}
		for k := range m {
			if !validHeaderName(k) {
				d.errorf(a[name].Expr.Range(), "Invalid header name", "%q is not a header name; use letters, digits and \"-\", such as \"X-Env\".", k)
			}
		}
	}
	for _, k := range h.Remove {
		if !validHeaderName(k) {
			d.errorf(a["remove"].Expr.Range(), "Invalid header name", "%q is not a header name; use letters, digits and \"-\", such as \"Cookie\".", k)
		}
	}
	return h
}

// validHeaderName reports whether s is an HTTP header field name (an RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return true
}

// mock decodes a route's mock block.
func (d *decoder) mock(b *hcl.Block, ptr string) *Mock {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "status"}, {Name: "headers"}, {Name: "body"},
	}})
	d.diags = append(d.diags, diags...)
	m := &Mock{Status: 200, Headers: map[string]string{}}
	a := content.Attributes
	d.status(a["status"], ptr+"/status", &m.Status)
	d.stringMap(a["headers"], ptr+"/headers", &m.Headers)
	d.str(a["body"], ptr+"/body", &m.Body)
	return m
}
