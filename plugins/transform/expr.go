package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// scope is what a template expression can read.
type scope struct {
	// body is the JSON body as text, validated by bodyScope; "" when empty.
	body string
	// bodyText marks a response body that is not JSON: $.body is that text.
	bodyText bool
	// selected are the raw values of the side's body selectors, by
	// expr.sel, when the host selected them (side.scope); nil otherwise.
	selected [][]byte
	// members are the root object's members named keys (missing ones
	// zero), when the body is an object; see bodyScope.
	keys    []string
	members []gjson.Result
	path    func(string) (string, bool)
	query   func(string) (string, bool)
	header  func(string) (string, bool)
	context func(string) (string, bool)
	stage   map[string]string
}

// source names the root a selector reads from.
type source int

const (
	srcBody source = iota
	srcPath
	srcQuery
	srcHeader
	srcContext
	srcStage
	srcLiteral
)

// step is one selector step: a key or an index. An index is also a key,
// its decimal text, as it selects that member of an object.
type step struct {
	key   string
	isIdx bool
}

// filter is one "| name(arg)" stage.
type filter struct {
	name string
	arg  any
}

// expr is a compiled expression: a selector and its filters.
type expr struct {
	src     source
	name    string // for path/query/header/context/stage
	steps   []step // for body
	sel     int    // index of the body selector among its side's pointers (side.sel)
	literal any
	filters []filter
	text    string
}

// node is a compiled template value.
type node struct {
	kind   int // 0 literal, 1 expr, 2 interpolated string, 3 object, 4 array
	lit    any
	ex     *expr
	parts  []part
	keys   []string
	fields []*node
	items  []*node
}

// part is a piece of an interpolated string.
type part struct {
	lit string
	ex  *expr
}

const (
	nLit = iota
	nExpr
	nInterp
	nObject
	nArray
)

// compileTemplate compiles a decoded JSON template (strings are expressions).
func compileTemplate(v any, where string) (*node, error) {
	switch t := v.(type) {
	case string:
		return compileString(t, where)
	case map[string]any:
		n := &node{kind: nObject}
		for _, k := range sortedKeys(t) {
			f, err := compileTemplate(t[k], where+"/"+k)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k)
			n.fields = append(n.fields, f)
		}
		return n, nil
	case []any:
		n := &node{kind: nArray}
		for i, it := range t {
			c, err := compileTemplate(it, where+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, c)
		}
		return n, nil
	}
	return &node{kind: nLit, lit: v}, nil
}

func compileString(s, where string) (*node, error) {
	if strings.HasPrefix(s, "$") && !strings.Contains(s, "${") {
		e, err := parseExpr(s)
		if err != nil {
			return nil, fmt.Errorf("template %s: %q: %w", where, s, err)
		}
		return &node{kind: nExpr, ex: e}, nil
	}
	if !strings.Contains(s, "${") {
		return &node{kind: nLit, lit: s}, nil
	}
	n := &node{kind: nInterp}
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			if rest != "" {
				n.parts = append(n.parts, part{lit: rest})
			}
			return n, nil
		}
		if i > 0 {
			n.parts = append(n.parts, part{lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("template %s: %q: unclosed ${; close it with }", where, s)
		}
		e, err := parseExpr(strings.TrimSpace(rest[i+2 : i+j]))
		if err != nil {
			return nil, fmt.Errorf("template %s: %q: %w", where, s, err)
		}
		n.parts = append(n.parts, part{ex: e})
		rest = rest[i+j+1:]
	}
}

// parseExpr parses `selector ( | filter )*`.
func parseExpr(s string) (*expr, error) {
	segs := splitPipes(s)
	e := &expr{text: s}
	sel := strings.TrimSpace(segs[0])
	if err := e.parseSelector(sel); err != nil {
		return nil, err
	}
	for _, f := range segs[1:] {
		f = strings.TrimSpace(f)
		name, arg := f, ""
		if i := strings.IndexByte(f, '('); i >= 0 {
			if !strings.HasSuffix(f, ")") {
				return nil, fmt.Errorf("filter %q: missing )", f)
			}
			name, arg = strings.TrimSpace(f[:i]), strings.TrimSpace(f[i+1:len(f)-1])
		}
		flt := filter{name: name}
		switch name {
		case "default":
			v, err := decodeJSON([]byte(arg))
			if err != nil {
				return nil, fmt.Errorf("default(%s): the argument must be a JSON literal such as \"x\", 0 or null", arg)
			}
			flt.arg = v
		case "string", "number", "int", "bool", "json", "upper", "lower", "trim":
			if arg != "" {
				return nil, fmt.Errorf("filter %s takes no argument", name)
			}
		default:
			return nil, fmt.Errorf("unknown filter %q; use default(v), string, number, int, bool, json, upper, lower or trim", name)
		}
		e.filters = append(e.filters, flt)
	}
	return e, nil
}

// splitPipes splits on | outside double quotes.
func splitPipes(s string) []string {
	var out []string
	inQ, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQ = !inQ
		case '|':
			if !inQ {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

var roots = map[string]source{
	"$path": srcPath, "$query": srcQuery, "$header": srcHeader,
	"$context": srcContext, "$stageVariables": srcStage,
}

func (e *expr) parseSelector(s string) error {
	if !strings.HasPrefix(s, "$") {
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return fmt.Errorf("%q is neither a selector ($.body..., $path.x, $query.x, $header.x, $context.x, $stageVariables.x) nor a JSON literal", s)
		}
		e.src, e.literal = srcLiteral, v
		return nil
	}
	switch {
	case s == "$" || s == "$.body" || s == "$body":
		e.src = srcBody
		return nil
	case strings.HasPrefix(s, "$.body"):
		e.src = srcBody
		return e.parseSteps(s[len("$.body"):])
	case strings.HasPrefix(s, "$body"):
		e.src = srcBody
		return e.parseSteps(s[len("$body"):])
	case strings.HasPrefix(s, "$."), strings.HasPrefix(s, "$["):
		e.src = srcBody
		return e.parseSteps(s[1:])
	}
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return fmt.Errorf("selector %q needs a name, e.g. $path.id", s)
	}
	src, ok := roots[s[:i]]
	if !ok {
		return fmt.Errorf("unknown root %q; use $.body, $path, $query, $header, $context or $stageVariables", s[:i])
	}
	e.src, e.name = src, s[i+1:]
	if e.name == "" {
		return fmt.Errorf("selector %q needs a name after the dot", s)
	}
	if src == srcContext {
		if _, ok := contextNames[e.name]; !ok {
			return fmt.Errorf("unknown context variable %q; use one of %s", e.name, strings.Join(sortedKeys(contextNames), ", "))
		}
	}
	return nil
}

// contextNames are the $context variables.
var contextNames = map[string]any{
	"requestId": nil, "httpMethod": nil, "path": nil, "routeKey": nil,
	"clientIp": nil, "requestTimeEpoch": nil, "status": nil,
}

func (e *expr) parseSteps(s string) error {
	for s != "" {
		switch {
		case s[0] == '.':
			j := 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == 1 {
				return fmt.Errorf("empty key in selector")
			}
			e.steps = append(e.steps, step{key: s[1:j]})
			s = s[j:]
		case s[0] == '[':
			j := strings.IndexByte(s, ']')
			if j < 0 {
				return fmt.Errorf("missing ] in selector")
			}
			in := s[1:j]
			if strings.HasPrefix(in, `"`) {
				k, err := strconv.Unquote(in)
				if err != nil {
					return fmt.Errorf("bad quoted key %s", in)
				}
				e.steps = append(e.steps, step{key: k})
			} else {
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 {
					return fmt.Errorf("index [%s] must be a non-negative integer or a quoted key", in)
				}
				e.steps = append(e.steps, step{key: strconv.Itoa(n), isIdx: true})
			}
			s = s[j+1:]
		default:
			return fmt.Errorf("unexpected %q in selector; use .key, [0] or [\"key\"]", s)
		}
	}
	return nil
}

// errEval is a runtime template failure.
var errEval = errors.New("evaluate template")

func (e *expr) eval(sc *scope) (any, error) {
	var v any
	var ok bool
	switch e.src {
	case srcLiteral:
		v, ok = e.literal, true
	case srcBody:
		v, ok = e.selectBody(sc), true
	case srcStage:
		var s string
		s, ok = sc.stage[e.name]
		v = s
	default:
		get := sc.context
		switch e.src {
		case srcPath:
			get = sc.path
		case srcQuery:
			get = sc.query
		case srcHeader:
			get = sc.header
		}
		var s string
		s, ok = get(e.name)
		v = s
	}
	if !ok {
		v = nil
	}
	for _, f := range e.filters {
		var err error
		if v, err = apply(f, v); err != nil {
			return nil, fmt.Errorf("%w: %q: %s: %w", errEval, e.text, f.name, err)
		}
	}
	return v, nil
}

func apply(f filter, v any) (any, error) {
	switch f.name {
	case "default":
		if v == nil || v == "" {
			return f.arg, nil
		}
		return v, nil
	case "string":
		if v == nil {
			return nil, nil
		}
		return toString(v), nil
	case "upper", "lower", "trim":
		s, ok := v.(string)
		if !ok {
			return v, nil
		}
		switch f.name {
		case "upper":
			return strings.ToUpper(s), nil
		case "lower":
			return strings.ToLower(s), nil
		}
		return strings.TrimSpace(s), nil
	case "number", "int":
		var n json.Number
		switch t := v.(type) {
		case nil:
			return nil, nil
		case json.Number:
			n = t
		case string:
			n = json.Number(strings.TrimSpace(t))
		case bool:
			if t {
				n = "1"
			} else {
				n = "0"
			}
		default:
			return nil, fmt.Errorf("cannot convert %s to a number", typeName(v))
		}
		fl, err := n.Float64()
		if err != nil && !strings.Contains(err.Error(), "range") {
			return nil, fmt.Errorf("%q is not a number", string(n))
		}
		if f.name == "int" {
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
				return json.Number(strconv.FormatInt(i, 10)), nil
			}
			if fl != float64(int64(fl)) {
				return nil, fmt.Errorf("%q is not an integer", string(n))
			}
			return json.Number(strconv.FormatInt(int64(fl), 10)), nil
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return n, nil // out of float range, kept verbatim
		}
		return n, nil
	case "bool":
		switch t := v.(type) {
		case nil:
			return nil, nil
		case bool:
			return t, nil
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(t))
			if err != nil {
				return nil, fmt.Errorf("%q is not a boolean", t)
			}
			return b, nil
		case json.Number:
			return t != "0" && t != "0.0", nil
		}
		return nil, fmt.Errorf("cannot convert %s to a boolean", typeName(v))
	case "json":
		s, ok := v.(string)
		if !ok {
			return v, nil
		}
		out, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		return out, nil
	}
	return v, nil
}

func typeName(v any) string {
	switch t := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.RawMessage:
		if len(t) > 0 && t[0] == '[' {
			return "an array"
		}
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// toString renders v for interpolation: strings verbatim, null as "",
// everything else as JSON.
func toString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return string(t)
	case bool:
		return strconv.FormatBool(t)
	case json.RawMessage:
		// Decode this part of the body only, so that its text is the one
		// encoding/json writes (keys sorted), as before bodies were raw.
		if d, err := decodeJSON(t); err == nil {
			v = d
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// eval evaluates a compiled template string (literal, expression or
// interpolation); objects and arrays are written by appendJSON.
func (n *node) eval(sc *scope) (any, error) {
	switch n.kind {
	case nLit:
		return n.lit, nil
	case nExpr:
		return n.ex.eval(sc)
	case nInterp:
		var sb strings.Builder
		for _, p := range n.parts {
			if p.ex == nil {
				sb.WriteString(p.lit)
				continue
			}
			v, err := p.ex.eval(sc)
			if err != nil {
				return nil, err
			}
			sb.WriteString(toString(v))
		}
		return sb.String(), nil
	}
	return nil, fmt.Errorf("%w: an object or array is not a string", errEval)
}

// render evaluates a body template to JSON text: the bytes json.Marshal
// wrote for the evaluated template (objects have their keys sorted, as
// compileTemplate orders them), written directly.
func (n *node) render(sc *scope) ([]byte, error) {
	return n.appendJSON(make([]byte, 0, 256), sc)
}

func (n *node) appendJSON(dst []byte, sc *scope) ([]byte, error) {
	var err error
	switch n.kind {
	case nObject:
		dst = append(dst, '{')
		for i, k := range n.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendJSONString(dst, k), ':')
			if dst, err = n.fields[i].appendJSON(dst, sc); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case nArray:
		dst = append(dst, '[')
		for i, it := range n.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = it.appendJSON(dst, sc); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	if raw, ok := n.verbatim(sc); ok {
		return append(dst, raw...), nil
	}
	v, err := n.eval(sc)
	if err != nil {
		return nil, err
	}
	return appendValue(dst, v)
}

// verbatim returns the raw JSON text the host selected for a body
// expression without filters when appendValue would write exactly that
// text: a number, true, false, null, or a string of printable ASCII that
// needs no escape. It saves decoding the value into a Go value and encoding
// it again (allocations a Go guest pays dearly for).
func (n *node) verbatim(sc *scope) ([]byte, bool) {
	if n.kind != nExpr || n.ex.src != srcBody || len(n.ex.filters) > 0 || sc.selected == nil {
		return nil, false
	}
	raw := sc.selected[n.ex.sel]
	if len(raw) == 0 {
		return nil, false
	}
	switch c := raw[0]; {
	case c == '"':
		if len(raw) < 2 || raw[len(raw)-1] != '"' {
			return nil, false
		}
		for _, c := range raw[1 : len(raw)-1] {
			if c >= utf8.RuneSelf || !htmlSafe[c] {
				return nil, false
			}
		}
		return raw, true
	case c == '-' || c >= '0' && c <= '9':
		return raw, isJSONNumber(string(raw))
	case string(raw) == "true" || string(raw) == "false" || string(raw) == "null":
		return raw, true
	}
	return nil, false
}

// appendValue appends v as json.Marshal writes it.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, t), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case json.Number:
		if t == "" {
			t = "0"
		}
		if !isJSONNumber(string(t)) {
			return nil, fmt.Errorf("json: invalid number literal %q", string(t))
		}
		return append(dst, t...), nil
	case json.RawMessage:
		// An object or array copied from a body is decoded and encoded
		// again, not passed through: a repeated key reaches the upstream
		// once, with the value the validator and this template saw (the
		// last), never as {"q":0,"q":3} for a parser that takes the first.
		d, err := decodeJSON(t)
		if err != nil {
			return nil, err
		}
		v = d
	}
	b, err := json.Marshal(v) // decoded by the json filter or a default()
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// bodyExprs calls visit with each expression of the template that reads
// the body.
func (n *node) bodyExprs(visit func(*expr)) {
	if n.ex != nil && n.ex.src == srcBody {
		visit(n.ex)
	}
	for _, p := range n.parts {
		if p.ex != nil && p.ex.src == srcBody {
			visit(p.ex)
		}
	}
	for _, c := range n.fields {
		c.bodyExprs(visit)
	}
	for _, c := range n.items {
		c.bodyExprs(visit)
	}
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b[d.InputOffset():])) > 0 {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}
