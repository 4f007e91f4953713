package plugin

import (
	"bytes"
	"errors"
	"strings"

	"github.com/wasmgate/gateway/abi"
)

// jsonSelectHost is the optional host capability behind JSONSelector.
type jsonSelectHost interface {
	// JSONSelect runs json_select and returns its result code and, when it
	// is not negative, the NUL-terminated values.
	JSONSelect(doc, list []byte) (int32, []byte)
}

// HostJSONSelect reports whether the host selects JSON values natively
// (abi.FeatureJSONSelect).
func HostJSONSelect() bool {
	_, ok := host().(jsonSelectHost)
	return ok && Features()&abi.FeatureJSONSelect != 0
}

// JSONSelector is a list of JSON Pointers (RFC 6901) prepared for
// json_select: build it once, in OnConfigure, and Select from each body.
type JSONSelector struct {
	list []byte // the pointers, NUL-terminated
	n    int
}

// NewJSONSelector prepares pointers: each is "" (the whole document) or
// "/"-separated tokens with "~1" for "/" and "~0" for "~".
func NewJSONSelector(pointers ...string) (JSONSelector, error) {
	if len(pointers) > abi.MaxSelectPointers {
		return JSONSelector{}, errors.New("json_select takes at most 256 pointers")
	}
	var s JSONSelector
	for _, p := range pointers {
		if p != "" && p[0] != '/' || strings.IndexByte(p, 0) >= 0 {
			return JSONSelector{}, errors.New(`JSON Pointer ` + p + ` must be "" or start with "/" (and hold no NUL)`)
		}
		s.list = append(append(s.list, p...), 0)
	}
	s.n = len(pointers)
	return s, nil
}

// Select finds the values the pointers name in the JSON text doc, natively.
// It returns each value's raw JSON text (nil for a pointer that selects
// nothing), in a fresh buffer; ErrInvalid when doc is not exactly one JSON
// value or a pointer is malformed; ErrUnavailable on a host without
// abi.FeatureJSONSelect.
func (s JSONSelector) Select(doc []byte) ([][]byte, error) {
	h, ok := host().(jsonSelectHost)
	if !ok {
		return nil, ErrUnavailable
	}
	rc, raw := h.JSONSelect(doc, s.list)
	if rc < 0 {
		return nil, result(rc)
	}
	raw = bytes.Clone(raw)
	out := make([][]byte, s.n)
	for i := range out {
		v, rest, ok := bytes.Cut(raw, []byte{0})
		if !ok {
			return nil, ErrInvalid
		}
		if len(v) > 0 {
			out[i] = v
		}
		raw = rest
	}
	return out, nil
}
