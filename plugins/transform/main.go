// Command transform is a gateway plugin that rewrites requests and responses,
// like AWS API Gateway parameter and body mapping templates: headers and query
// parameters (add, set, rename, remove), the upstream path with route
// parameters, JSON bodies built by templates, and response status mapping.
//
//	plugin "to_v2" {
//	  source = "transform.wasm"
//	  config = {
//	    stage_variables = { env = "prod" }
//	    request = {
//	      path    = "/v2/users/{id}"
//	      headers = { set = { "X-Stage" = "${$stageVariables.env}" }, remove = ["Cookie"] }
//	      body    = { user = "$.body.name", id = "$path.id | int", requestId = "$context.requestId" }
//	    }
//	    response = {
//	      status = [{ from = [404], to = 200 }]
//	      body   = { data = "$.body", status = "$context.status | int" }
//	    }
//	  }
//	}
//
// The expression language is documented in README.md.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// Config is the plugin's config block.
type Config struct {
	// StageVariables are readable as $stageVariables.NAME.
	StageVariables map[string]string `json:"stage_variables"`
	// Request rewrites the request before the upstream.
	Request *Side `json:"request"`
	// Response rewrites the response before the client.
	Response *Side `json:"response"`
}

// Side is the rewriting of one direction.
type Side struct {
	// Headers edits headers.
	Headers *Edits `json:"headers"`
	// Query edits query parameters (request only).
	Query *Edits `json:"query"`
	// Path is the new upstream path; {name} is replaced by the route
	// parameter name, escaped (request only).
	Path string `json:"path"`
	// Body is a JSON template: every string in it is an expression or an
	// interpolated string. Absent keeps the body.
	Body json.RawMessage `json:"body"`
	// Status maps the upstream status (response only); the first match wins.
	Status []StatusRule `json:"status"`
}

// Edits applies, in order: remove, rename, set, add. Values of set and add
// may interpolate ${expr}.
type Edits struct {
	Add    map[string]string `json:"add"`
	Set    map[string]string `json:"set"`
	Rename map[string]string `json:"rename"`
	Remove []string          `json:"remove"`
}

// StatusRule maps a response to a new status.
type StatusRule struct {
	// From lists upstream statuses; empty matches any.
	From []int `json:"from"`
	// BodyPattern is a regular expression the response body must match.
	BodyPattern string `json:"body_pattern"`
	// To is the new status.
	To int `json:"to"`
}

type kv struct {
	name string
	val  *node
}

type edits struct {
	add, set []kv
	rename   [][2]string
	remove   []string
}

type statusRule struct {
	from map[int]bool
	re   *regexp.Regexp
	to   int
}

type side struct {
	headers, query *edits
	path           string
	pathParts      []pathPart // path, split at its {param} references
	body           *node
	bodyReads      bool
	bodyKeys       []string             // root members the body template reads
	sel            *plugin.JSONSelector // the body selectors, for json_select (hostSelector)
	status         []statusRule
}

// transform is the compiled config.
type transform struct {
	stage    map[string]string
	req, res *side
}

// phases are the phases the config needs: on routes whose transform never
// touches the response, say, the gateway streams the response body instead
// of buffering it for an empty response phase.
func (t *transform) phases() uint32 {
	var m uint32
	if r := t.req; r != nil {
		if r.path != "" || r.query != nil || r.headers != nil {
			m |= abi.PhaseRequestHeaders
		}
		if r.body != nil {
			m |= abi.PhaseRequestBody
		}
	}
	if r := t.res; r != nil {
		if r.headers != nil {
			m |= abi.PhaseResponseHeaders
		}
		if r.body != nil || len(r.status) > 0 {
			m |= abi.PhaseResponseBody
		}
	}
	return m
}

// tr is set once per instance by OnConfigure; an instance is single-threaded.
var tr *transform

func compileEdits(e *Edits, where string) (*edits, error) {
	if e == nil {
		return nil, nil
	}
	out := &edits{remove: e.Remove}
	for _, k := range sortedKeys(e.Rename) {
		out.rename = append(out.rename, [2]string{k, e.Rename[k]})
	}
	comp := func(m map[string]string, what string) ([]kv, error) {
		var l []kv
		for _, k := range sortedKeys(m) {
			n, err := compileString(m[k], where+"."+what+"."+k)
			if err != nil {
				return nil, err
			}
			l = append(l, kv{k, n})
		}
		return l, nil
	}
	var err error
	if out.set, err = comp(e.Set, "set"); err != nil {
		return nil, err
	}
	if out.add, err = comp(e.Add, "add"); err != nil {
		return nil, err
	}
	return out, nil
}

var paramRef = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// pathPart is literal text of a path template, or the name of a route
// parameter to substitute (escaped).
type pathPart struct {
	text  string
	param bool
}

// splitPath splits a path template at its {param} references once, at
// load: a regexp replace per request cost several µs in wasm.
func splitPath(path string) []pathPart {
	var parts []pathPart
	last := 0
	for _, m := range paramRef.FindAllStringSubmatchIndex(path, -1) {
		if m[0] > last {
			parts = append(parts, pathPart{text: path[last:m[0]]})
		}
		parts = append(parts, pathPart{text: path[m[2]:m[3]], param: true})
		last = m[1]
	}
	if last < len(path) {
		parts = append(parts, pathPart{text: path[last:]})
	}
	return parts
}

func compileSide(s *Side, where string) (*side, error) {
	if s == nil {
		return nil, nil
	}
	out := &side{path: s.Path}
	var err error
	if out.headers, err = compileEdits(s.Headers, where+".headers"); err != nil {
		return nil, err
	}
	if out.query, err = compileEdits(s.Query, where+".query"); err != nil {
		return nil, err
	}
	if s.Path != "" && !strings.HasPrefix(s.Path, "/") {
		return nil, fmt.Errorf("%s.path %q must start with /", where, s.Path)
	}
	out.pathParts = splitPath(s.Path)
	if len(s.Body) > 0 && string(s.Body) != "null" {
		tmpl, err := decodeJSON(s.Body)
		if err != nil {
			return nil, fmt.Errorf("%s.body: %w", where, err)
		}
		if str, ok := tmpl.(string); ok && !strings.HasPrefix(str, "$") && !strings.Contains(str, "${") {
			// A string that is itself JSON (file("tmpl.json")) is the template.
			if v, err := decodeJSON([]byte(str)); err == nil {
				tmpl = v
			}
		}
		if out.body, err = compileTemplate(tmpl, where+".body"); err != nil {
			return nil, err
		}
		out.body.bodyExprs(func(e *expr) {
			out.bodyReads = true
			if len(e.steps) > 0 && !slices.Contains(out.bodyKeys, e.steps[0].key) {
				out.bodyKeys = append(out.bodyKeys, e.steps[0].key)
			}
		})
	}
	for i, r := range s.Status {
		if r.To < 100 || r.To > 599 {
			return nil, fmt.Errorf("%s.status[%d].to = %d is not an HTTP status; use 100-599", where, i, r.To)
		}
		sr := statusRule{to: r.To}
		if len(r.From) > 0 {
			sr.from = map[int]bool{}
			for _, f := range r.From {
				sr.from[f] = true
			}
		}
		if r.BodyPattern != "" {
			re, err := regexp.Compile(r.BodyPattern)
			if err != nil {
				return nil, fmt.Errorf("%s.status[%d].body_pattern: %w", where, i, err)
			}
			sr.re = re
		}
		out.status = append(out.status, sr)
	}
	return out, nil
}

func newTransform(raw []byte) (*transform, error) {
	var cfg Config
	if err := plugin.DecodeConfig(raw, &cfg); err != nil {
		return nil, err
	}
	if cfg.Request == nil && cfg.Response == nil {
		return nil, errors.New("nothing to transform; set request or response")
	}
	out := &transform{stage: cfg.StageVariables}
	var err error
	if out.req, err = compileSide(cfg.Request, "request"); err != nil {
		return nil, err
	}
	if out.res, err = compileSide(cfg.Response, "response"); err != nil {
		return nil, err
	}
	if out.res != nil && (out.res.path != "" || out.res.query != nil) {
		return nil, errors.New("response.path and response.query are not supported; rewrite paths and queries in request")
	}
	return out, nil
}

// newScope returns the expression scope of the current request. An
// instance serves one phase at a time and no scope outlives its phase, so
// one scope is reused: a Go guest pays dearly for each allocation, and
// closures over the request would cost five per phase.
func newScope(_ plugin.Request, status int) *scope {
	cur = curState{status: status}
	theScope = scope{path: scopePath, query: scopeQuery, header: scopeHeader, context: scopeContext, stage: tr.stage}
	return &theScope
}

var (
	theScope scope
	cur      curState
)

// curState is what the scope's functions read about the current phase.
type curState struct {
	status int
	query  url.Values // parsed on first use
}

func scopePath(n string) (string, bool) { return plugin.Request{}.Param(n) }

func scopeHeader(n string) (string, bool) { return plugin.Request{}.Header().Lookup(n) }

func scopeQuery(n string) (string, bool) {
	if cur.query == nil {
		cur.query, _ = url.ParseQuery(plugin.Request{}.Query())
	}
	v, ok := cur.query[n]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func scopeContext(n string) (string, bool) {
	req := plugin.Request{}
	switch n {
	case "requestId":
		return req.ID(), true
	case "httpMethod":
		return req.Method(), true
	case "path":
		return req.Path(), true
	case "routeKey":
		return req.RouteKey(), true
	case "clientIp":
		return req.ClientIP(), true
	case "requestTimeEpoch":
		return strconv.FormatInt(plugin.Now().UnixMilli(), 10), true
	case "status":
		if cur.status == 0 {
			return "", false
		}
		return strconv.Itoa(cur.status), true
	}
	return "", false
}

func str(n *node, sc *scope) (string, error) {
	v, err := n.eval(sc)
	if err != nil {
		return "", err
	}
	return toString(v), nil
}

func applyHeaders(e *edits, h plugin.Header, sc *scope) error {
	for _, n := range e.remove {
		h.Del(n)
	}
	for _, r := range e.rename {
		if vals := h.Values(r[0]); len(vals) > 0 {
			h.Del(r[0])
			for _, v := range vals {
				h.Add(r[1], v)
			}
		}
	}
	for _, s := range e.set {
		v, err := str(s.val, sc)
		if err != nil {
			return err
		}
		h.Set(s.name, v)
	}
	for _, a := range e.add {
		v, err := str(a.val, sc)
		if err != nil {
			return err
		}
		h.Add(a.name, v)
	}
	return nil
}

func applyQuery(e *edits, req plugin.Request, sc *scope) error {
	q, err := url.ParseQuery(req.Query())
	if err != nil {
		q = url.Values{}
	}
	for _, n := range e.remove {
		q.Del(n)
	}
	for _, r := range e.rename {
		if v, ok := q[r[0]]; ok {
			delete(q, r[0])
			q[r[1]] = append(q[r[1]], v...)
		}
	}
	for _, s := range e.set {
		v, err := str(s.val, sc)
		if err != nil {
			return err
		}
		q.Set(s.name, v)
	}
	for _, a := range e.add {
		v, err := str(a.val, sc)
		if err != nil {
			return err
		}
		q.Add(a.name, v)
	}
	req.SetQuery(q.Encode())
	return nil
}

// fail answers 500 with the request id and logs the template failure.
func fail(req plugin.Request, where string, err error) plugin.Action {
	plugin.LogError("transform " + where + ": " + err.Error())
	id := req.ID()
	plugin.Response{}.Header().Set("Content-Type", "application/json")
	return plugin.Respond(500, []byte(`{"message":"Internal server error","requestId":`+strconv.Quote(id)+`}`))
}

func onRequestHeaders(req plugin.Request) plugin.Action {
	s := tr.req
	if s == nil {
		return plugin.Continue
	}
	var sc *scope // one for the query and the header edits: both see the query as sent
	if s.query != nil || s.headers != nil {
		sc = newScope(req, 0)
	}
	if s.path != "" && len(s.pathParts) == 1 && !s.pathParts[0].param {
		req.SetPath(s.pathParts[0].text) // a fixed path
	} else if s.path != "" {
		var b strings.Builder
		for _, part := range s.pathParts {
			if part.param {
				v, _ := req.Param(part.text)
				b.WriteString(url.PathEscape(v))
			} else {
				b.WriteString(part.text)
			}
		}
		req.SetPath(b.String())
	}
	if s.query != nil {
		if err := applyQuery(s.query, req, sc); err != nil {
			return fail(req, "request.query", err)
		}
	}
	if s.headers != nil {
		if err := applyHeaders(s.headers, req.Header(), sc); err != nil {
			return fail(req, "request.headers", err)
		}
	}
	return plugin.Continue
}

func onRequestBody(req plugin.Request) plugin.Action {
	s := tr.req
	if s == nil || s.body == nil {
		return plugin.Continue
	}
	sc := newScope(req, 0)
	if s.bodyReads {
		b, err := req.BodyView()
		if err != nil {
			return fail(req, "request.body", err)
		}
		if err := s.scope(sc, b); err != nil {
			plugin.Response{}.Header().Set("Content-Type", "application/json")
			return plugin.Respond(400, []byte(`{"message":"Malformed JSON in request body"}`))
		}
	}
	out, err := s.body.render(sc)
	if err != nil {
		return fail(req, "request.body", err)
	}
	if err := req.SetBody(out); err != nil {
		return fail(req, "request.body", err)
	}
	req.Header().Set("Content-Type", "application/json")
	return plugin.Continue
}

func onResponseHeaders(req plugin.Request, resp plugin.Response) plugin.Action {
	s := tr.res
	if s == nil || s.headers == nil {
		return plugin.Continue
	}
	if err := applyHeaders(s.headers, resp.Header(), newScope(req, resp.Status())); err != nil {
		plugin.LogError("transform response.headers: " + err.Error())
		resp.SetStatus(500)
	}
	return plugin.Continue
}

func onResponseBody(req plugin.Request, resp plugin.Response) plugin.Action {
	s := tr.res
	if s == nil || (s.body == nil && len(s.status) == 0) {
		return plugin.Continue
	}
	status := resp.Status()
	var body []byte
	if s.bodyReads || len(s.status) > 0 {
		var err error
		if body, err = resp.BodyView(); err != nil {
			return failResponse(req, resp, err)
		}
	}
	if s.body != nil {
		sc := newScope(req, status)
		if s.bodyReads {
			if err := s.scope(sc, body); err != nil {
				// A non-JSON upstream body is available as a string.
				sc.body, sc.bodyText = string(body), true
			}
		}
		out, err := s.body.render(sc)
		if err != nil {
			return failResponse(req, resp, err)
		}
		if err := resp.SetBody(out); err != nil {
			return failResponse(req, resp, err)
		}
		resp.Header().Set("Content-Type", "application/json")
	}
	for _, r := range s.status {
		if r.from != nil && !r.from[status] {
			continue
		}
		if r.re != nil && !r.re.Match(body) {
			continue
		}
		resp.SetStatus(r.to)
		break
	}
	return plugin.Continue
}

func failResponse(req plugin.Request, resp plugin.Response, err error) plugin.Action {
	plugin.LogError("transform response.body: " + err.Error())
	resp.SetStatus(500)
	resp.Header().Set("Content-Type", "application/json")
	_ = resp.SetBody([]byte(`{"message":"Internal server error","requestId":` + strconv.Quote(req.ID()) + `}`))
	return plugin.Continue
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func init() {
	plugin.Handle(plugin.Handler{
		OnConfigure: func(raw []byte) error {
			anyJSON = nil
			t, err := newTransform(raw)
			if err != nil {
				return err
			}
			tr = t
			plugin.UsePhases(t.phases())
			guestScan := false // a side reads the body without json_select
			for _, sd := range []*side{t.req, t.res} {
				if sd != nil && sd.bodyReads {
					sd.sel = hostSelector(sd.body)
					guestScan = guestScan || sd.sel == nil
				}
			}
			if guestScan && plugin.HostSchema() {
				s, err := plugin.CompileSchema([]byte("true"), "")
				if err != nil {
					return fmt.Errorf("json_schema_compile(true): %w", err)
				}
				anyJSON = &s
			}
			return nil
		},
		OnRequestHeaders:  onRequestHeaders,
		OnRequestBody:     onRequestBody,
		OnResponseHeaders: onResponseHeaders,
		OnResponseBody:    onResponseBody,
	})
}

func main() {}
