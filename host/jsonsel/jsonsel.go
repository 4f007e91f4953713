// Package jsonsel selects values from a JSON document by JSON Pointer
// (RFC 6901) in one pass, natively, for the json_select host function
// (abi/ABI.md). A Go guest scanning a 2 KiB body to find a few members spends
// tens of µs on it in wasm; here it is a few µs. sdk/go/plugintest uses this
// package too.
//
// The document must be exactly one JSON value, as encoding/json decodes it:
// surrounding whitespace is allowed, trailing data, syntax errors and nesting
// deeper than 10000 are not. Like encoding/json, a repeated object member
// counts once, with its last value, and invalid UTF-8 inside strings is
// accepted (the value is returned as written).
package jsonsel

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/wasmgate/gateway/abi"
)

// ErrMalformed is a document that is not exactly one JSON value.
var ErrMalformed = errors.New("not a single well-formed JSON value")

// Pointer is a parsed JSON Pointer: its reference tokens, unescaped.
type Pointer []string

// ParsePointer parses a JSON Pointer: "" (the whole document) or "/" tokens
// with "~1" for "/" and "~0" for "~".
func ParsePointer(s string) (Pointer, error) {
	if s == "" {
		return Pointer{}, nil
	}
	if s[0] != '/' {
		return nil, errors.New(`a JSON Pointer is "" or starts with "/"`)
	}
	toks := strings.Split(s[1:], "/")
	for i, t := range toks {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, errors.New(`"~" in a JSON Pointer must be "~0" or "~1"`)
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// index is tok as an array index: decimal, no sign, no leading zero.
func index(tok string) (int, bool) {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(tok)
	return n, err == nil
}

var decoders = sync.Pool{New: func() any { return new(walker) }}

type walker struct {
	d      jsontext.Decoder
	doc    []byte
	ptrs   []Pointer
	out    [][]byte
	active [][]int // indices of ptrs matching the current location, by depth
}

var opts = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// Select returns, for each pointer, the raw text of the value it selects in
// doc (a subslice of doc), or nil when it selects nothing.
func Select(doc []byte, ptrs []Pointer) ([][]byte, error) {
	w := decoders.Get().(*walker)
	defer func() {
		w.doc, w.ptrs, w.out = nil, nil, nil
		decoders.Put(w)
	}()
	w.d.Reset(bytes.NewReader(doc), opts...)
	w.doc, w.ptrs = doc, ptrs
	out := make([][]byte, len(ptrs))
	w.out = out
	all := make([]int, len(ptrs))
	for i := range all {
		all[i] = i
	}
	if err := w.value(0, all); err != nil {
		return nil, ErrMalformed
	}
	if _, err := w.d.ReadToken(); err != io.EOF {
		return nil, ErrMalformed
	}
	return out, nil
}

// value reads the value at depth; active are the pointers whose first depth
// tokens lead here.
func (w *walker) value(depth int, active []int) error {
	descend := false
	for _, i := range active {
		if len(w.ptrs[i]) > depth {
			descend = true
			break
		}
	}
	kind := w.d.PeekKind()
	if !descend || (kind != '{' && kind != '[') {
		v, err := w.d.ReadValue()
		if err != nil {
			return err
		}
		end := int(w.d.InputOffset())
		w.record(depth, active, end-len(v), end)
		return nil
	}
	if _, err := w.d.ReadToken(); err != nil {
		return err
	}
	start := int(w.d.InputOffset()) - 1 // the delimiter just read
	for len(w.active) <= depth {
		w.active = append(w.active, nil)
	}
	if kind == '{' {
		for w.d.PeekKind() != '}' {
			name, err := w.d.ReadToken()
			if err != nil {
				return err
			}
			key := name.String()
			next := w.active[depth][:0]
			for _, i := range active {
				if p := w.ptrs[i]; len(p) > depth && p[depth] == key {
					next = append(next, i)
				}
			}
			w.active[depth] = next
			if err := w.child(depth, next); err != nil {
				return err
			}
		}
	} else {
		for n := 0; w.d.PeekKind() != ']'; n++ {
			next := w.active[depth][:0]
			for _, i := range active {
				if p := w.ptrs[i]; len(p) > depth {
					if k, ok := index(p[depth]); ok && k == n {
						next = append(next, i)
					}
				}
			}
			w.active[depth] = next
			if err := w.child(depth, next); err != nil {
				return err
			}
		}
	}
	if _, err := w.d.ReadToken(); err != nil {
		return err
	}
	w.record(depth, active, start, int(w.d.InputOffset()))
	return nil
}

// child reads a member or element: skipped when no pointer goes into it.
func (w *walker) child(depth int, next []int) error {
	if len(next) == 0 {
		return w.d.SkipValue()
	}
	// value may reuse w.active[depth+1:], never w.active[depth]: copy next.
	own := append([]int(nil), next...)
	for _, i := range own {
		// A repeated member replaces the earlier one whole, as in
		// encoding/json: what the earlier one held is gone.
		w.out[i] = nil
	}
	return w.value(depth+1, own)
}

// record sets the result of the pointers that end at depth.
func (w *walker) record(depth int, active []int, start, end int) {
	for _, i := range active {
		if len(w.ptrs[i]) == depth {
			w.out[i] = w.doc[start:end] // a later repeat of a member wins
		}
	}
}

// ABI runs json_select (abi.FuncJSONSelect): list is NUL-terminated JSON Pointers; the
// result is appended to dst, one NUL-terminated raw value per pointer.
func ABI(doc, list, dst []byte) ([]byte, int32) {
	var ptrs []Pointer
	for len(list) > 0 {
		p, rest, ok := bytes.Cut(list, []byte{0})
		if !ok {
			return nil, abi.ResultInvalid // the last pointer lacks its NUL
		}
		if len(ptrs) == abi.MaxSelectPointers {
			return nil, abi.ResultTooLarge
		}
		ptr, err := ParsePointer(string(p))
		if err != nil {
			return nil, abi.ResultInvalid
		}
		ptrs = append(ptrs, ptr)
		list = rest
	}
	vals, err := Select(doc, ptrs)
	if err != nil {
		return nil, abi.ResultInvalid
	}
	for _, v := range vals {
		dst = append(append(dst, v...), 0)
	}
	return dst, 0
}
