package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/wasmgate/gateway/sdk/go/plugin"
)

// The JSON body is read with gjson rather than encoding/json: a template
// usually picks a few fields, and gjson selects them from the raw bytes
// without decoding the document into maps and slices. Go's encoding/json is
// about ten times slower in wasm than natively: decoding a 2 KiB body into
// `any` cost ~0.3 ms a request through the real host, validating it with
// gjson.ValidBytes (a scanner that allocates nothing) and selecting costs
// tens of µs (README.md, Performance). The members of the root object that
// the template reads are found in one pass, however many selectors read
// them. Objects and arrays that a template selects are carried as
// json.RawMessage; writing one out decodes and encodes it again (expr.go,
// appendJSON), so repeated keys never reach the upstream.

// maxDepth is encoding/json's nesting limit: bodies nested deeper were
// malformed before gjson and still are. It also bounds gjson.ValidBytes,
// which recurses once per level.
const maxDepth = 10000

// errMalformed is a body that is not exactly one JSON value.
var errMalformed = errors.New("malformed JSON")

// bodyScope sets sc's body to b when b is JSON, and finds the members
// named keys when it is an object; it leaves the body unset for an empty or
// blank b and fails on anything that is not exactly one JSON value. Spaces
// after the value are allowed, as encoding/json's Decoder with a check for
// trailing data allowed them.
func bodyScope(sc *scope, b []byte, keys []string) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	b = bytes.TrimRightFunc(b, unicode.IsSpace)
	if !wellFormed(b) {
		return errMalformed
	}
	sc.body = string(b)
	if root := gjson.Parse(sc.body); root.IsObject() && len(keys) > 0 {
		sc.keys, sc.members = keys, make([]gjson.Result, len(keys))
		root.ForEach(func(k, v gjson.Result) bool {
			if i := slices.Index(keys, k.Str); i >= 0 {
				sc.members[i] = v // the last one wins, see lastMember
			}
			return true
		})
	}
	return nil
}

// pointer is the JSON Pointer of the body selector e, and whether json_select
// reads it exactly as selectBody would: a key step that looks like an array
// index ($.body.items.0) must not index an array, so it stays in the guest.
func (e *expr) pointer() (string, bool) {
	var b strings.Builder
	for _, st := range e.steps {
		if !st.isIdx && isIndex(st.key) {
			return "", false
		}
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(st.key, "~", "~0"), "/", "~1"))
	}
	return b.String(), true
}

// isIndex reports whether a JSON Pointer token would index an array.
func isIndex(tok string) bool {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}

// hostSelector prepares json_select for the body selectors of a template
// (abi.FeatureJSONSelect): one native pass finds every value the template
// reads, instead of checking and scanning the body in the guest. It returns
// nil when the host lacks it or a selector must stay in the guest.
func hostSelector(body *node) *plugin.JSONSelector {
	if body == nil || !plugin.HostJSONSelect() {
		return nil
	}
	var ptrs []string
	ok := true
	body.bodyExprs(func(e *expr) {
		p, exact := e.pointer()
		if !exact {
			ok = false
			return
		}
		if e.sel = slices.Index(ptrs, p); e.sel < 0 {
			e.sel = len(ptrs)
			ptrs = append(ptrs, p)
		}
	})
	if !ok || len(ptrs) == 0 {
		return nil
	}
	sel, err := plugin.NewJSONSelector(ptrs...)
	if err != nil {
		return nil
	}
	return &sel
}

// scope fills sc's body from b: with json_select when the side has a
// selector, else in the guest (bodyScope). Either way a body that is not
// one JSON value is errMalformed.
func (s *side) scope(sc *scope, b []byte) error {
	if s.sel == nil || len(bytes.TrimSpace(b)) == 0 {
		return bodyScope(sc, b, s.bodyKeys)
	}
	vals, err := s.sel.Select(bytes.TrimRightFunc(b, unicode.IsSpace))
	switch {
	case errors.Is(err, plugin.ErrInvalid):
		return errMalformed
	case err != nil:
		return bodyScope(sc, b, s.bodyKeys)
	}
	sc.selected = vals
	return nil
}

// anyJSON is the schema `true` compiled by the host (plugin.CompileSchema),
// nil on gateways without native JSON Schema: validating against it is a
// native check that b is one JSON value, several times cheaper than
// gjson.ValidBytes in wasm (about 23 µs for 2 KiB).
var anyJSON *plugin.Schema

// wellFormed reports whether b is exactly one JSON value, nested at most
// maxDepth deep: what encoding/json decodes.
func wellFormed(b []byte) bool {
	if anyJSON != nil {
		errs, err := anyJSON.Validate(b)
		return err == nil && errs == nil
	}
	return !(len(b) > maxDepth && tooDeep(b)) && gjson.ValidBytes(b)
}

// tooDeep reports whether b nests arrays and objects deeper than maxDepth.
// It counts exactly for valid JSON; for anything else gjson.ValidBytes fails.
func tooDeep(b []byte) bool {
	depth, inStr := 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			if depth++; depth > maxDepth {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}

// selectBody is the value of the body selector e, or nil when it is missing.
func (e *expr) selectBody(sc *scope) any {
	if sc.selected != nil {
		v := sc.selected[e.sel]
		if v == nil {
			return nil
		}
		return jsonValue(gjson.ParseBytes(v))
	}
	if sc.bodyText {
		if len(e.steps) == 0 {
			return sc.body
		}
		return nil
	}
	if sc.body == "" {
		return nil
	}
	r := gjson.Parse(sc.body)
	for i, st := range e.steps {
		switch {
		case i == 0 && r.IsObject():
			r = sc.rootMember(r, st.key)
		case r.IsObject():
			r = lastMember(r, st.key)
		case r.IsArray() && st.isIdx:
			r = r.Get(st.key) // a decimal index: no gjson path syntax in it
		default:
			return nil
		}
		if !r.Exists() {
			return nil
		}
	}
	return jsonValue(r)
}

// rootMember is the member key of the root object root: found by bodyScope
// when the template names it, else looked up.
func (sc *scope) rootMember(root gjson.Result, key string) gjson.Result {
	if i := slices.Index(sc.keys, key); i >= 0 {
		return sc.members[i]
	}
	return lastMember(root, key)
}

// lastMember is obj's member named key, compared literally (unescaped, no
// gjson path syntax). When the name repeats it is the last one, as
// encoding/json reads the object, and so as request-validator validated it.
func lastMember(obj gjson.Result, key string) gjson.Result {
	var v gjson.Result
	obj.ForEach(func(k, val gjson.Result) bool {
		if k.Str == key {
			v = val
		}
		return true
	})
	return v
}

// jsonValue is r as encoding/json with UseNumber decoded scalars (string,
// json.Number, bool, nil); an object or array is its raw text.
func jsonValue(r gjson.Result) any {
	switch r.Type {
	case gjson.String:
		return validUTF8(r.Str)
	case gjson.Number:
		return json.Number(r.Raw)
	case gjson.True:
		return true
	case gjson.False:
		return false
	case gjson.JSON:
		return json.RawMessage(r.Raw)
	}
	return nil
}

// validUTF8 replaces each byte of s that is not UTF-8 by U+FFFD, as
// encoding/json does when it decodes a string.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for _, r := range s { // ranging yields U+FFFD for each bad byte
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// isJSONNumber reports whether s is a JSON number literal.
func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') && gjson.Valid(s)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it: HTML characters, U+2028, U+2029 and bad UTF-8 included.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && htmlSafe[c] {
			i++
			continue
		}
		esc, size := escapeAt(s, i)
		switch c := s[i]; {
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c < ' ':
			esc = controlEscape(c)
		}
		if esc != "" {
			dst = append(append(dst, s[start:i]...), esc...)
			start = i + size
		}
		i += size
	}
	return append(append(dst, s[start:]...), '"')
}

// htmlSafe are the ASCII characters encoding/json writes in a string as
// they are.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, c)
	}
	return t
}()

// escapeAt is how encoding/json escapes the character at s[i] beyond what
// JSON requires ("" for none) and the character's size: <, > and & for
// HTML, U+2028 and U+2029 for JavaScript, a bad UTF-8 byte as U+FFFD.
func escapeAt[T string | json.RawMessage](s T, i int) (string, int) {
	switch c := s[i]; {
	case c == '<':
		return `\u003c`, 1
	case c == '>':
		return `\u003e`, 1
	case c == '&':
		return `\u0026`, 1
	case c < utf8.RuneSelf:
		return "", 1
	}
	// Only the rune is converted, so that it stays on the stack.
	r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
	switch {
	case r == utf8.RuneError && size == 1:
		return badUTF8, 1
	case r == '\u2028':
		return `\u2028`, size
	case r == '\u2029':
		return `\u2029`, size
	}
	return "", size
}

// badUTF8 is how encoding/json writes a byte that is not UTF-8.
const badUTF8 = `\ufffd`

// controlEscape is encoding/json's escape of the control character c.
func controlEscape(c byte) string {
	switch c {
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	const hex = "0123456789abcdef"
	return `\u00` + string(hex[c>>4]) + string(hex[c&0xF])
}
