package schema

import (
	"bytes"
	"hash/maphash"
	"io"
	"math"
	"math/big"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The fast path: most request schemas use a handful of keywords (type,
// properties, required, additionalProperties, items, lengths, bounds,
// patterns, string enums, uniqueItems), and most requests are valid. For such
// schemas Compile also builds a node tree that checks a document in one pass
// over its tokens (jsontext), without building it as Go values: about 10x
// faster than decoding it and running the validator (BenchmarkValidate2K).
//
// The fast path only ever says "valid". Whenever it cannot be sure — a
// keyword it does not know anywhere in the schema (the tree is not built), a
// violation, a number it cannot compare exactly, duplicate names, invalid
// UTF-8, deep nesting — Validate runs the full validator, which decides and
// explains. So errors and edge cases are the library's, and a fast-path bug
// can only let through what the library would let through if the node
// semantics below are a subset of its own; FuzzFastPath checks that.

// JSON types, as bits.
const (
	tNull uint8 = 1 << iota
	tBool
	tInteger // a number written without fraction or exponent
	tNumber
	tString
	tArray
	tObject
)

var typeBits = map[string]uint8{
	"null": tNull, "boolean": tBool, "integer": tInteger, "number": tNumber | tInteger,
	"string": tString, "array": tArray, "object": tObject,
}

// node is a schema the fast path can check. A nil *node accepts anything.
type node struct {
	types uint8 // 0: any type

	// strings
	minLen, maxLen int // -1: none
	pattern        jsonschema.Regexp
	enum           map[string]struct{} // non-nil: the value must be one of these strings

	// numbers: bounds exactly representable as float64 integers
	bounds []bound

	// arrays
	items              *node
	minItems, maxItems int
	unique             bool // items are all strings (checked at compile time)

	// objects
	props              map[string]*node
	required           map[string]int // name -> bit
	addl               *node          // additionalProperties schema
	noAddl             bool           // additionalProperties: false
	minProps, maxProps int
}

type bound struct {
	v         float64
	max, excl bool
}

// maxSafe is the largest integer below which float64 and int64 agree.
const maxSafe = 1 << 53

// buildFast returns the fast-path tree of s, or ok false when s uses anything
// the fast path does not implement.
func buildFast(s *jsonschema.Schema, depth int) (n *node, ok bool) {
	if s == nil {
		return nil, true
	}
	if depth > 32 || s.Ref != nil || s.RecursiveRef != nil || s.DynamicRef != nil || s.Const != nil ||
		s.Not != nil || s.AllOf != nil || s.AnyOf != nil || s.OneOf != nil || s.If != nil || s.Then != nil || s.Else != nil ||
		s.Format != nil || s.PropertyNames != nil || s.PatternProperties != nil || s.Dependencies != nil ||
		s.DependentRequired != nil || s.DependentSchemas != nil || s.UnevaluatedProperties != nil ||
		s.Contains != nil || s.AdditionalItems != nil || s.PrefixItems != nil || s.UnevaluatedItems != nil ||
		s.ContentEncoding != nil || s.ContentMediaType != nil || s.ContentSchema != nil || s.MultipleOf != nil ||
		len(s.Extensions) > 0 {
		return nil, false
	}
	if s.Bool != nil {
		if *s.Bool {
			return nil, true
		}
		return nil, false // false: nothing is valid; let the validator say so
	}
	n = &node{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			n.types |= typeBits[t]
		}
	}
	if s.Enum != nil {
		n.enum = map[string]struct{}{}
		for _, v := range s.Enum.Values {
			str, isStr := v.(string)
			if !isStr {
				return nil, false
			}
			n.enum[str] = struct{}{}
		}
	}
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	set(&n.minLen, s.MinLength)
	set(&n.maxLen, s.MaxLength)
	set(&n.minItems, s.MinItems)
	set(&n.maxItems, s.MaxItems)
	set(&n.minProps, s.MinProperties)
	set(&n.maxProps, s.MaxProperties)
	n.pattern = s.Pattern
	for _, b := range []struct {
		r         *big.Rat
		max, excl bool
	}{{s.Minimum, false, false}, {s.Maximum, true, false}, {s.ExclusiveMinimum, false, true}, {s.ExclusiveMaximum, true, true}} {
		if b.r == nil {
			continue
		}
		if !b.r.IsInt() || b.r.Num().CmpAbs(big.NewInt(maxSafe)) > 0 {
			return nil, false
		}
		n.bounds = append(n.bounds, bound{v: float64(b.r.Num().Int64()), max: b.max, excl: b.excl})
	}
	items := s.Items2020
	if s.Items != nil {
		is, isSchema := s.Items.(*jsonschema.Schema)
		if !isSchema {
			return nil, false
		}
		items = is
	}
	if n.items, ok = buildFast(items, depth+1); !ok {
		return nil, false
	}
	if s.UniqueItems {
		// Only strings compare by text; 1 and 1.0 are equal numbers.
		if n.items == nil || n.items.types != tString {
			return nil, false
		}
		n.unique = true
	}
	if len(s.Properties) > 0 {
		n.props = make(map[string]*node, len(s.Properties))
		for k, ps := range s.Properties {
			pn, ok := buildFast(ps, depth+1)
			if !ok {
				return nil, false
			}
			if pn == nil {
				pn = &node{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
			}
			n.props[k] = pn
		}
	}
	if len(s.Required) > 64 {
		return nil, false
	}
	if len(s.Required) > 0 {
		n.required = make(map[string]int, len(s.Required))
		for _, r := range s.Required {
			if _, dup := n.required[r]; !dup {
				n.required[r] = len(n.required)
			}
		}
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		n.noAddl = !a
	case *jsonschema.Schema:
		if n.addl, ok = buildFast(a, depth+1); !ok {
			return nil, false
		}
	default:
		return nil, false
	}
	return n, true
}

// maxFastDepth bounds the nesting the fast path walks; deeper documents go to
// the validator (which applies encoding/json's own limit).
const maxFastDepth = 200

// walker checks one document.
type walker struct {
	d      jsontext.Decoder
	strbuf []byte
	seen   []uniqueSet // uniqueItems sets, by depth
}

// uniqueSet holds the hashes of an array's strings. A repeated hash is a
// repeated string or (rarely) a collision: either way the fast path gives
// up, so it needs no copy of the strings.
type uniqueSet map[uint64]struct{}

var hashSeed = maphash.MakeSeed()

// add reports whether s's hash is new.
func (u uniqueSet) add(s []byte) bool {
	h := maphash.Bytes(hashSeed, s)
	if _, ok := u[h]; ok {
		return false
	}
	u[h] = struct{}{}
	return true
}

var walkers = sync.Pool{New: func() any { return new(walker) }}

// fastValid reports whether doc is surely valid against n.
func fastValid(n *node, doc []byte) bool {
	w := walkers.Get().(*walker)
	defer walkers.Put(w)
	w.d.Reset(bytes.NewReader(doc))
	if !w.value(n, 0) {
		return false
	}
	_, err := w.d.ReadToken()
	return err == io.EOF
}

// str returns the content of the string value v (quoted, as read).
func (w *walker) str(v jsontext.Value) ([]byte, bool) {
	raw := v[1 : len(v)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	var err error
	w.strbuf, err = jsontext.AppendUnquote(w.strbuf[:0], v)
	return w.strbuf, err == nil
}

// value reads one value and checks it against n.
func (w *walker) value(n *node, depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	switch w.d.PeekKind() {
	case '{':
		return n.typeOK(tObject) && w.object(n, depth)
	case '[':
		return n.typeOK(tArray) && w.array(n, depth)
	}
	v, err := w.d.ReadValue()
	if err != nil {
		return false
	}
	switch v.Kind() {
	case 'n':
		return n.typeOK(tNull) && n.scalarOK()
	case 't', 'f':
		return n.typeOK(tBool) && n.scalarOK()
	case '0':
		return w.number(n, v)
	case '"':
		if !n.typeOK(tString) {
			return false
		}
		s, ok := w.str(v)
		return ok && n.stringOK(s)
	}
	return false
}

func (n *node) typeOK(t uint8) bool { return n == nil || n.types == 0 || n.types&t != 0 }

// scalarOK: null and booleans fail a string enum.
func (n *node) scalarOK() bool { return n == nil || n.enum == nil }

func (n *node) stringOK(s []byte) bool {
	if n == nil {
		return true
	}
	if n.minLen >= 0 || n.maxLen >= 0 {
		c := utf8.RuneCount(s)
		if (n.minLen >= 0 && c < n.minLen) || (n.maxLen >= 0 && c > n.maxLen) {
			return false
		}
	}
	if n.enum != nil {
		if _, ok := n.enum[string(s)]; !ok {
			return false
		}
	}
	return n.pattern == nil || n.pattern.MatchString(string(s))
}

// number checks a number literal: integers of up to 15 digits compare
// exactly as float64; anything else is left to the validator when it matters.
func (w *walker) number(n *node, v jsontext.Value) bool {
	if n == nil {
		return true
	}
	if n.enum != nil {
		return false
	}
	isInt := bytes.IndexAny(v, ".eE") < 0
	digits := len(v)
	if len(v) > 0 && v[0] == '-' {
		digits--
	}
	switch {
	case n.types != 0 && n.types&tNumber == 0: // integer only
		if !isInt || n.types&tInteger == 0 {
			return false
		}
	}
	if len(n.bounds) == 0 {
		return true
	}
	if !isInt || digits > 15 {
		return false
	}
	var x int64
	for _, c := range v {
		if c != '-' {
			x = x*10 + int64(c-'0')
		}
	}
	if v[0] == '-' {
		x = -x
	}
	f := float64(x)
	for _, b := range n.bounds {
		switch {
		case b.max && (f > b.v || (b.excl && f == b.v)):
			return false
		case !b.max && (f < b.v || (b.excl && f == b.v)):
			return false
		}
	}
	return !math.IsNaN(f)
}

func (w *walker) array(n *node, depth int) bool {
	if _, err := w.d.ReadToken(); err != nil {
		return false
	}
	var items *node
	var seen uniqueSet
	if n != nil {
		items = n.items
		if n.unique {
			for len(w.seen) <= depth {
				w.seen = append(w.seen, uniqueSet{})
			}
			seen = w.seen[depth]
			clear(seen)
		}
	}
	count := 0
	for w.d.PeekKind() != ']' {
		if seen != nil {
			v, err := w.d.ReadValue()
			if err != nil || v.Kind() != '"' {
				return false
			}
			s, ok := w.str(v)
			if !ok || !items.stringOK(s) {
				return false
			}
			if !seen.add(s) {
				return false
			}
		} else if !w.value(items, depth+1) {
			return false
		}
		count++
	}
	if _, err := w.d.ReadToken(); err != nil {
		return false
	}
	return n == nil || ((n.minItems < 0 || count >= n.minItems) && (n.maxItems < 0 || count <= n.maxItems))
}

func (w *walker) object(n *node, depth int) bool {
	if _, err := w.d.ReadToken(); err != nil {
		return false
	}
	var have uint64
	count := 0
	for w.d.PeekKind() != '}' {
		name, err := w.d.ReadValue()
		if err != nil || name.Kind() != '"' {
			return false
		}
		key, ok := w.str(name)
		if !ok {
			return false
		}
		var child *node
		if n != nil {
			if bit, ok := n.required[string(key)]; ok {
				have |= 1 << bit
			}
			if pn, ok := n.props[string(key)]; ok {
				child = pn
			} else if n.noAddl {
				return false
			} else {
				child = n.addl
			}
		}
		if !w.value(child, depth+1) {
			return false
		}
		count++
	}
	if _, err := w.d.ReadToken(); err != nil {
		return false
	}
	if n == nil {
		return true
	}
	if len(n.required) > 0 && have != (uint64(1)<<len(n.required))-1 {
		return false
	}
	return (n.minProps < 0 || count >= n.minProps) && (n.maxProps < 0 || count <= n.maxProps)
}
