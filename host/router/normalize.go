package router

// Character classes of RFC 3986 as 128-bit masks (lo: bytes 0-63, hi: 64-127).
const (
	digitMask  = (1<<10 - 1) << '0'
	upperMask  = (1<<26 - 1) << ('A' - 64)
	lowerMask  = (1<<26 - 1) << ('a' - 64)
	subDelimLo = 1<<'!' | 1<<'$' | 1<<'&' | 1<<'\'' | 1<<'(' | 1<<')' | 1<<'*' | 1<<'+' | 1<<',' | 1<<';' | 1<<'='

	// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
	unreservedLo uint64 = digitMask | 1<<'-' | 1<<'.'
	unreservedHi uint64 = upperMask | lowerMask | 1<<('_'-64) | 1<<('~'-64)

	// pchar (without pct-encoded) = unreserved / sub-delims / ":" / "@"
	pcharLo uint64 = unreservedLo | subDelimLo | 1<<':'
	pcharHi uint64 = unreservedHi | 1<<('@'-64)
)

const upperHex = "0123456789ABCDEF"

func inClass(c byte, lo, hi uint64) bool {
	if c < 64 {
		return lo&(1<<c) != 0
	}
	if c < 128 {
		return hi&(1<<(c-64)) != 0
	}
	return false
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool { return inClass(c, unreservedLo, unreservedHi) }

// isPchar reports whether c may appear unencoded in a canonical path segment.
func isPchar(c byte) bool { return inClass(c, pcharLo, pcharHi) }

// unhex returns the value of the hex digit c and whether c is one.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isControl reports whether c is an ASCII control character.
func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

// isDotSegment reports whether s is "." or "..".
func isDotSegment(s string) bool { return s == "." || s == ".." }

// Normalize returns the canonical form of a request path, the form that is
// both routed and forwarded, or a *PathError wrapping ErrBadPath when the
// path is refused. rawPath is the path as the client sent it, still
// percent-encoded (for net/http: the request-target up to "?", or
// URL.EscapedPath). The package documentation lists the rules.
//
// When rawPath is already canonical, Normalize returns it unchanged without
// allocating.
func Normalize(rawPath string) (string, error) {
	if len(rawPath) == 0 || rawPath[0] != '/' {
		return "", &PathError{Offset: 0, Text: rawPath, Err: ErrNotAbsolute}
	}
	clean, err := scanPath(rawPath)
	if err != nil {
		return "", err
	}
	if clean {
		return rawPath, nil
	}
	return rewritePath(rawPath), nil
}

// scanPath checks every byte of p, which starts with "/". It returns an error
// for a refused path, and otherwise whether p is already canonical.
func scanPath(p string) (clean bool, err error) {
	clean = true
	segStart := 1
	for i := 1; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			if i == segStart || isDotSegment(p[segStart:i]) {
				clean = false
			}
			segStart = i + 1
		case c == '%':
			if i+2 >= len(p) {
				return false, &PathError{Offset: i, Text: p[i:], Err: ErrBadEscape}
			}
			hi, ok1 := unhex(p[i+1])
			lo, ok2 := unhex(p[i+2])
			if !ok1 || !ok2 {
				return false, &PathError{Offset: i, Text: p[i : i+3], Err: ErrBadEscape}
			}
			switch v := hi<<4 | lo; {
			case v == '/' || v == '\\':
				return false, &PathError{Offset: i, Text: p[i : i+3], Err: ErrEncodedSlash}
			case isControl(v):
				return false, &PathError{Offset: i, Text: p[i : i+3], Err: ErrControlChar}
			case isUnreserved(v) || p[i+1] >= 'a' || p[i+2] >= 'a':
				clean = false
			}
			i += 2
		case c == '\\':
			return false, &PathError{Offset: i, Text: p[i : i+1], Err: ErrBackslash}
		case isControl(c):
			return false, &PathError{Offset: i, Text: p[i : i+1], Err: ErrControlChar}
		case !isPchar(c):
			clean = false
		}
	}
	if isDotSegment(p[segStart:]) {
		clean = false
	}
	return clean, nil
}

// rewritePath builds the canonical form of p, which scanPath accepted.
func rewritePath(p string) string {
	// Pass 1: canonical percent-encoding. Separators stay the only "/" bytes
	// because encoded slashes were refused.
	buf := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			hi, _ := unhex(p[i+1])
			lo, _ := unhex(p[i+2])
			if v := hi<<4 | lo; isUnreserved(v) {
				buf = append(buf, v)
			} else {
				buf = append(buf, '%', upperHex[v>>4], upperHex[v&15])
			}
			i += 2
		case c == '/' || isPchar(c):
			buf = append(buf, c)
		default:
			buf = append(buf, '%', upperHex[c>>4], upperHex[c&15])
		}
	}

	// Pass 2: drop empty and "." segments, apply ".." (clamped at the root),
	// in place. out always ends with "/" while it is built; it never overtakes
	// the read position r.
	out := buf[:1]
	trailing := false
	for r := 1; r <= len(buf); {
		e := r
		for e < len(buf) && buf[e] != '/' {
			e++
		}
		seg := buf[r:e]
		last := e == len(buf)
		switch {
		case len(seg) == 0 || string(seg) == ".":
			trailing = last
		case string(seg) == "..":
			if len(out) > 1 {
				j := len(out) - 2
				for out[j] != '/' {
					j--
				}
				out = out[:j+1]
			}
			trailing = last
		default:
			out = append(out, seg...)
			out = append(out, '/')
			trailing = false
		}
		r = e + 1
	}
	if !trailing && len(out) > 1 {
		out = out[:len(out)-1]
	}
	return string(out)
}
