// Command cors is a gateway plugin implementing CORS (the Fetch standard's
// cross-origin resource sharing) for a route, like AWS API Gateway's CORS
// configuration.
//
// It answers preflight requests itself (OPTIONS with Origin and
// Access-Control-Request-Method): 204 with the Access-Control-Allow-* headers
// when the origin, method and headers are allowed, 403 {"message":"Forbidden"}
// otherwise. On actual requests it adds Access-Control-Allow-Origin,
// -Credentials and -Expose-Headers in the response-headers phase (also on
// local responses of plugins after it, such as an auth plugin's 401) and
// always adds Vary: Origin. For a disallowed origin the actual request goes
// on without CORS headers (the browser then blocks the response), and any
// Access-Control-Allow-Origin/-Credentials the upstream set are removed.
//
//	plugin "cors" {
//	  source = "bin/plugins/cors.wasm"
//	  config = {
//	    origins        = ["https://app.example.com", "https://*.example.com"]
//	    methods        = ["GET", "POST", "DELETE"]
//	    headers        = ["Authorization", "Content-Type"]
//	    expose_headers = ["X-Request-Id"]
//	    credentials    = true
//	    max_age        = 600
//	  }
//	}
package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// Origins allowed: "https://app.example.com" (exact), "https://*.example.com"
	// (any subdomain, not the apex), "null" (only when listed) or "*" (any).
	Origins []string `json:"origins"`
	// Methods allowed in preflight; "*" allows any. Default GET, HEAD, POST.
	Methods []string `json:"methods"`
	// Headers the client may send (Access-Control-Allow-Headers); "*" allows
	// any, echoing the requested ones.
	Headers []string `json:"headers"`
	// ExposeHeaders the browser lets scripts read (Access-Control-Expose-Headers).
	ExposeHeaders []string `json:"expose_headers"`
	// Credentials sends Access-Control-Allow-Credentials: true; the origin is
	// then always echoed, never "*".
	Credentials bool `json:"credentials"`
	// MaxAge is Access-Control-Max-Age in seconds; 0 omits it.
	MaxAge int `json:"max_age"`
}

// pattern is one compiled entry of Config.Origins.
type pattern struct {
	any    bool   // "*"
	exact  string // full origin, lowercase
	scheme string // wildcard: "https"
	suffix string // wildcard: ".example.com"
	port   string // wildcard: "" or "8443"
}

// state is built once per instance; the request fields are reset per request.
var state struct {
	cfg          Config
	origins      []pattern
	anyMethod    bool
	methods      map[string]bool
	methodList   string
	anyHeader    bool
	headers      map[string]bool
	headerList   string
	exposeList   string
	maxAge       string
	preflightRan bool // this request was a preflight answered here
}

func configure(raw []byte) error {
	var c Config
	if err := plugin.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if len(c.Origins) == 0 {
		return fmt.Errorf(`origins: set at least one origin, e.g. origins = ["https://app.example.com"]`)
	}
	pats := make([]pattern, 0, len(c.Origins))
	for i, o := range c.Origins {
		p, err := compileOrigin(o)
		if err != nil {
			return fmt.Errorf("origins[%d]: %q %v", i, o, err)
		}
		pats = append(pats, p)
	}
	if len(c.Methods) == 0 {
		c.Methods = []string{"GET", "HEAD", "POST"}
	}
	methods := map[string]bool{}
	anyMethod := false
	for i, m := range c.Methods {
		switch {
		case m == "*":
			anyMethod = true
		case isToken(m):
			methods[strings.ToUpper(m)] = true
			c.Methods[i] = strings.ToUpper(m)
		default:
			return fmt.Errorf("methods[%d]: %q is not an HTTP method name", i, m)
		}
	}
	headers := map[string]bool{}
	anyHeader := false
	for i, h := range c.Headers {
		switch {
		case h == "*":
			anyHeader = true
		case isToken(h):
			headers[strings.ToLower(h)] = true
		default:
			return fmt.Errorf("headers[%d]: %q is not a header name", i, h)
		}
	}
	for i, h := range c.ExposeHeaders {
		if h == "*" || !isToken(h) {
			return fmt.Errorf("expose_headers[%d]: %q is not a header name (\"*\" is not allowed: list the headers)", i, h)
		}
	}
	if c.MaxAge < 0 || c.MaxAge > 86400 {
		return fmt.Errorf("max_age: %d is out of range; use 0 to 86400 seconds", c.MaxAge)
	}
	state.cfg, state.origins = c, pats
	state.anyMethod, state.methods, state.methodList = anyMethod, methods, strings.Join(without(c.Methods, "*"), ", ")
	state.anyHeader, state.headers, state.headerList = anyHeader, headers, strings.Join(without(c.Headers, "*"), ", ")
	state.exposeList = strings.Join(c.ExposeHeaders, ", ")
	state.maxAge = ""
	if c.MaxAge > 0 {
		state.maxAge = strconv.Itoa(c.MaxAge)
	}
	return nil
}

func without(in []string, drop string) []string {
	var out []string
	for _, s := range in {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// compileOrigin validates one configured origin.
func compileOrigin(o string) (pattern, error) {
	if o == "*" {
		return pattern{any: true}, nil
	}
	if o == "null" {
		return pattern{exact: "null"}, nil
	}
	lo := strings.ToLower(o)
	wild := strings.Contains(lo, "://*.")
	if n := strings.Count(lo, "*"); n > 1 || n == 1 && !wild {
		return pattern{}, fmt.Errorf(`has a wildcard outside the first label; use "*" alone or "https://*.example.com"`)
	}
	scheme, host, port, ok := splitOrigin(strings.Replace(lo, "://*.", "://x.", 1))
	if !ok {
		return pattern{}, fmt.Errorf(`is not an origin; write scheme://host[:port] with no path, e.g. "https://app.example.com" or "https://*.example.com"`)
	}
	if !wild {
		return pattern{exact: lo}, nil
	}
	if !strings.Contains(host[2:], ".") {
		return pattern{}, fmt.Errorf(`has a wildcard that is too broad; "*." may only be the first label above a registrable domain, e.g. "https://*.example.com"`)
	}
	return pattern{scheme: scheme, suffix: host[1:], port: port}, nil
}

// splitOrigin parses scheme://host[:port] strictly: no user info, path,
// query or fragment; host made of letters, digits, '-', '.' or a bracketed
// IPv6 literal; port digits.
func splitOrigin(o string) (scheme, host, port string, ok bool) {
	scheme, rest, found := strings.Cut(o, "://")
	if !found || !isScheme(scheme) || rest == "" {
		return "", "", "", false
	}
	host = rest
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", "", false
		}
		host, rest = rest[:end+1], rest[end+1:]
		for _, c := range host[1 : len(host)-1] {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == ':' || c == '.') {
				return "", "", "", false
			}
		}
		if rest != "" {
			if rest[0] != ':' {
				return "", "", "", false
			}
			port = rest[1:]
			if !isPort(port) {
				return "", "", "", false
			}
		}
		return scheme, host, port, len(host) > 2
	}
	if h, p, hasPort := strings.Cut(rest, ":"); hasPort {
		host, port = h, p
		if !isPort(port) {
			return "", "", "", false
		}
	}
	if host == "" || host[0] == '.' || host[len(host)-1] == '.' || strings.Contains(host, "..") {
		return "", "", "", false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "", "", "", false
		}
	}
	return scheme, host, port, true
}

func isScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536 && s[0] != '0' && s[0] != '+'
}

// isToken reports an RFC 9110 token (method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// allowedOrigin returns the Access-Control-Allow-Origin value for origin, or
// "" when it is not allowed.
func allowedOrigin(origin string) string {
	lo := strings.ToLower(origin)
	if lo == "null" {
		// Sandboxed iframes, file: and data: URLs all send "null": it is
		// allowed only when listed, never through "*" with credentials.
		for _, p := range state.origins {
			if p.exact == "null" || p.any && !state.cfg.Credentials {
				return allowValue(origin)
			}
		}
		return ""
	}
	scheme, host, port, ok := splitOrigin(lo)
	if !ok {
		return ""
	}
	for _, p := range state.origins {
		switch {
		case p.any:
			return allowValue(origin)
		case p.exact != "":
			if p.exact == lo {
				return allowValue(origin)
			}
		case p.scheme == scheme && p.port == port && len(host) > len(p.suffix) && strings.HasSuffix(host, p.suffix) && host[0] != '[':
			return allowValue(origin)
		}
	}
	return ""
}

// allowValue is "*" for any-origin without credentials, else the origin echoed.
func allowValue(origin string) string {
	if !state.cfg.Credentials {
		for _, p := range state.origins {
			if p.any {
				return "*"
			}
		}
	}
	return origin
}

// preflight answers an OPTIONS preflight.
func preflight(req plugin.Request, origin, method string) plugin.Action {
	h := plugin.Response{}.Header()
	h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	allow := allowedOrigin(origin)
	if allow == "" {
		plugin.LogInfo(fmt.Sprintf("cors: preflight from origin %q denied: origin not allowed", origin))
		return plugin.Forbidden()
	}
	if !isToken(method) || !state.anyMethod && !state.methods[method] {
		plugin.LogInfo(fmt.Sprintf("cors: preflight from origin %q denied: method %q not allowed", origin, method))
		return plugin.Forbidden()
	}
	var requested []string
	for _, v := range req.Header().Values("Access-Control-Request-Headers") {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.ToLower(strings.TrimSpace(f))
			if f == "" {
				continue
			}
			if !isToken(f) || !state.anyHeader && !state.headers[f] {
				plugin.LogInfo(fmt.Sprintf("cors: preflight from origin %q denied: header %q not allowed", origin, f))
				return plugin.Forbidden()
			}
			requested = append(requested, f)
		}
	}
	h.Set("Access-Control-Allow-Origin", allow)
	if state.cfg.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if state.anyMethod {
		h.Set("Access-Control-Allow-Methods", method)
	} else {
		h.Set("Access-Control-Allow-Methods", state.methodList)
	}
	switch {
	case state.anyHeader && len(requested) > 0:
		h.Set("Access-Control-Allow-Headers", strings.Join(requested, ", "))
	case !state.anyHeader && state.headerList != "":
		h.Set("Access-Control-Allow-Headers", state.headerList)
	}
	if state.maxAge != "" {
		h.Set("Access-Control-Max-Age", state.maxAge)
	}
	return plugin.Respond(204, nil)
}

func onRequestHeaders(req plugin.Request) plugin.Action {
	state.preflightRan = false
	if req.Method() != "OPTIONS" {
		return plugin.Continue
	}
	origin, hasOrigin := req.Header().Lookup("Origin")
	method, isPreflight := req.Header().Lookup("Access-Control-Request-Method")
	if !hasOrigin || !isPreflight {
		return plugin.Continue // a plain OPTIONS request for the upstream
	}
	state.preflightRan = true
	return preflight(req, origin, method)
}

func onResponseHeaders(req plugin.Request, resp plugin.Response) plugin.Action {
	if state.preflightRan {
		return plugin.Continue
	}
	h := resp.Header()
	addVaryOrigin(h)
	origin, ok := req.Header().Lookup("Origin")
	if !ok {
		return plugin.Continue
	}
	allow := allowedOrigin(origin)
	h.Del("Access-Control-Allow-Origin")
	h.Del("Access-Control-Allow-Credentials")
	if allow == "" {
		plugin.LogDebug(fmt.Sprintf("cors: origin %q not allowed; no CORS headers sent", origin))
		return plugin.Continue
	}
	h.Set("Access-Control-Allow-Origin", allow)
	if state.cfg.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if state.exposeList != "" {
		h.Set("Access-Control-Expose-Headers", state.exposeList)
	}
	return plugin.Continue
}

// addVaryOrigin adds Origin to Vary unless it is there (or Vary is "*").
func addVaryOrigin(h plugin.Header) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "*" || strings.EqualFold(f, "Origin") {
				return
			}
		}
	}
	h.Add("Vary", "Origin")
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure:       configure,
		OnRequestHeaders:  onRequestHeaders,
		OnResponseHeaders: onResponseHeaders,
	})
}

func main() {}
