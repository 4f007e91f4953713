package function

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wasmgate/gateway/abi"
)

// encoding/json is slow in a Go wasm guest (reflection; about 200µs to decode
// a small event), and so is every allocation and branch under wazero's
// interruption checks, so the SDK encodes responses and decodes events by hand,
// allocating as little as it can: strings without escapes are slices of the
// event document, maps are pre-sized, and there are no closures. The shapes
// are fixed by abi.FunctionEvent and abi.FunctionResponse, and the tests check
// this codec against encoding/json.

// appendResponse appends r as JSON to b.
func appendResponse(b []byte, r *Response) []byte {
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(r.StatusCode), 10)
	if len(r.Headers) > 0 {
		b = append(b, `,"headers":{`...)
		first := true
		for k, v := range r.Headers {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, v)
		}
		b = append(b, '}')
	}
	if len(r.MultiValueHeaders) > 0 {
		b = append(b, `,"multiValueHeaders":{`...)
		first := true
		for k, vs := range r.MultiValueHeaders {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k)
			b = append(b, ':')
			b = appendStrings(b, vs)
		}
		b = append(b, '}')
	}
	if len(r.Cookies) > 0 {
		b = append(b, `,"cookies":`...)
		b = appendStrings(b, r.Cookies)
	}
	if r.Body != "" {
		b = append(b, `,"body":`...)
		b = appendString(b, r.Body)
	}
	if r.IsBase64Encoded {
		b = append(b, `,"isBase64Encoded":true`...)
	}
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// with encoding/json.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decoder is a minimal JSON reader for the event shape. Strings without
// escapes share src's memory.
type decoder struct {
	src string
	pos int
}

var errSyntax = errors.New("invalid JSON")

func (d *decoder) fail(what string) error {
	return fmt.Errorf("function: decode event at byte %d: %s: %w", d.pos, what, errSyntax)
}

// peek skips spaces and returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	for d.pos < len(d.src) {
		switch c := d.src[d.pos]; c {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return c
		}
	}
	return 0
}

func (d *decoder) expect(c byte, what string) error {
	if d.peek() != c {
		return d.fail("expected " + what)
	}
	d.pos++
	return nil
}

// null consumes a null literal if one is next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && strings.HasPrefix(d.src[d.pos:], "null") {
		d.pos += 4
		return true
	}
	return false
}

// open starts an object; ok is false for null.
func (d *decoder) open() (ok bool, err error) {
	if d.null() {
		return false, nil
	}
	return true, d.expect('{', "'{'")
}

// key returns the next key of an object opened with open, or ok false after
// its closing brace. first is true for the first call on an object.
func (d *decoder) key(first bool) (k string, ok bool, err error) {
	c := d.peek()
	switch {
	case c == '}':
		d.pos++
		return "", false, nil
	case !first && c != ',':
		return "", false, d.fail("expected ',' or '}'")
	case !first:
		d.pos++
	}
	if k, err = d.str(); err != nil {
		return "", false, err
	}
	return k, true, d.expect(':', "':'")
}

func (d *decoder) str() (string, error) {
	if d.peek() != '"' {
		return "", d.fail("expected a string")
	}
	d.pos++
	i := strings.IndexByte(d.src[d.pos:], '"')
	if i < 0 {
		d.pos = len(d.src)
		return "", d.fail("unterminated string")
	}
	raw := d.src[d.pos : d.pos+i]
	if strings.IndexByte(raw, '\\') < 0 {
		d.pos += i + 1
		return raw, nil
	}
	return d.strEscaped()
}

// strEscaped decodes a string with escapes; d.pos is after the quote.
func (d *decoder) strEscaped() (string, error) {
	var out []byte
	for d.pos < len(d.src) {
		c := d.src[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(out), nil
		case c != '\\':
			out = append(out, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.src) {
			break
		}
		e := d.src[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", d.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if strings.HasPrefix(d.src[d.pos:], `\u`) {
					save := d.pos
					d.pos += 2
					if lo, ok := d.hex4(); ok {
						r2 = lo
					} else {
						d.pos = save
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", d.fail("bad escape")
		}
	}
	return "", d.fail("unterminated string")
}

func (d *decoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.src) {
		return 0, false
	}
	n, err := strconv.ParseUint(d.src[d.pos:d.pos+4], 16, 32)
	if err != nil {
		return 0, false
	}
	d.pos += 4
	return rune(n), true
}

func (d *decoder) strOrNull() (string, error) {
	if d.null() {
		return "", nil
	}
	return d.str()
}

func (d *decoder) boolean() (bool, error) {
	switch {
	case d.null():
		return false, nil
	case strings.HasPrefix(d.src[d.pos:], "true"):
		d.pos += 4
		return true, nil
	case strings.HasPrefix(d.src[d.pos:], "false"):
		d.pos += 5
		return false, nil
	}
	return false, d.fail("expected true or false")
}

func (d *decoder) integer() (int64, error) {
	if d.null() {
		return 0, nil
	}
	start := d.pos
	for d.pos < len(d.src) && (d.src[d.pos] == '-' || d.src[d.pos] >= '0' && d.src[d.pos] <= '9') {
		d.pos++
	}
	n, err := strconv.ParseInt(d.src[start:d.pos], 10, 64)
	if err != nil {
		return 0, d.fail("expected an integer")
	}
	return n, nil
}

// stringMap decodes an object of strings into a map pre-sized for hint entries.
func (d *decoder) stringMap(hint int) (map[string]string, error) {
	ok, err := d.open()
	if !ok || err != nil {
		return nil, err
	}
	m := make(map[string]string, hint)
	for first := true; ; first = false {
		k, more, err := d.key(first)
		if err != nil || !more {
			return m, err
		}
		v, err := d.strOrNull()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
}

func (d *decoder) stringList() ([]string, error) {
	if d.null() {
		return nil, nil
	}
	if err := d.expect('[', "'['"); err != nil {
		return nil, err
	}
	out := make([]string, 0, 4)
	if d.peek() == ']' {
		d.pos++
		return out, nil
	}
	for {
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return out, nil
		default:
			return nil, d.fail("expected ',' or ']'")
		}
	}
}

// skip consumes any JSON value (for fields a newer host may add).
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '"':
		_, err := d.str()
		return err
	case c == '{':
		d.pos++
		for first := true; ; first = false {
			_, more, err := d.key(first)
			if err != nil || !more {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	case c == '[':
		d.pos++
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skip(); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return nil
			default:
				return d.fail("expected ',' or ']'")
			}
		}
	case c == 't' || c == 'f':
		_, err := d.boolean()
		return err
	case c == 'n':
		if d.null() {
			return nil
		}
	case c == '-' || c >= '0' && c <= '9':
		for d.pos < len(d.src) && strings.IndexByte("+-.eE0123456789", d.src[d.pos]) >= 0 {
			d.pos++
		}
		return nil
	}
	return d.fail("unexpected value")
}

// decodeEvent decodes the event document src into ev. The strings of ev may
// share src's memory.
func decodeEvent(src string, ev *Event) error {
	d := decoder{src: src}
	if err := d.expect('{', "'{'"); err != nil {
		return err
	}
	for first := true; ; first = false {
		k, more, err := d.key(first)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch k {
		case "version":
			ev.Version, err = d.strOrNull()
		case "routeKey":
			ev.RouteKey, err = d.strOrNull()
		case "rawPath":
			ev.RawPath, err = d.strOrNull()
		case "rawQueryString":
			ev.RawQueryString, err = d.strOrNull()
		case "cookies":
			ev.Cookies, err = d.stringList()
		case "headers":
			ev.Headers, err = d.stringMap(8)
		case "queryStringParameters":
			ev.QueryStringParameters, err = d.stringMap(4)
		case "pathParameters":
			ev.PathParameters, err = d.stringMap(2)
		case "stageVariables":
			ev.StageVariables, err = d.stringMap(4)
		case "requestContext":
			err = d.requestContext(&ev.RequestContext)
		case "body":
			ev.Body, err = d.strOrNull()
		case "isBase64Encoded":
			ev.IsBase64Encoded, err = d.boolean()
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
	if d.peek() != 0 {
		return d.fail("data after the event")
	}
	return nil
}

func (d *decoder) requestContext(rc *abi.RequestContext) error {
	ok, err := d.open()
	if !ok || err != nil {
		return err
	}
	for first := true; ; first = false {
		k, more, err := d.key(first)
		if err != nil || !more {
			return err
		}
		switch k {
		case "requestId":
			rc.RequestID, err = d.strOrNull()
		case "routeKey":
			rc.RouteKey, err = d.strOrNull()
		case "stage":
			rc.Stage, err = d.strOrNull()
		case "time":
			rc.Time, err = d.strOrNull()
		case "timeEpoch":
			rc.TimeEpoch, err = d.integer()
		case "domainName":
			rc.DomainName, err = d.strOrNull()
		case "http":
			err = d.httpContext(&rc.HTTP)
		case "authorizer":
			err = d.authorizer(rc)
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (d *decoder) httpContext(h *abi.HTTPContext) error {
	ok, err := d.open()
	if !ok || err != nil {
		return err
	}
	for first := true; ; first = false {
		k, more, err := d.key(first)
		if err != nil || !more {
			return err
		}
		switch k {
		case "method":
			h.Method, err = d.strOrNull()
		case "path":
			h.Path, err = d.strOrNull()
		case "protocol":
			h.Protocol, err = d.strOrNull()
		case "sourceIp":
			h.SourceIP, err = d.strOrNull()
		case "userAgent":
			h.UserAgent, err = d.strOrNull()
		default:
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (d *decoder) authorizer(rc *abi.RequestContext) error {
	ok, err := d.open()
	if !ok || err != nil {
		return err
	}
	rc.Authorizer = &abi.Authorizer{}
	for first := true; ; first = false {
		k, more, err := d.key(first)
		if err != nil || !more {
			return err
		}
		if k == "properties" {
			rc.Authorizer.Properties, err = d.stringMap(4)
		} else {
			err = d.skip()
		}
		if err != nil {
			return err
		}
	}
}
