package interrupt

import "fmt"

// reader decodes a WebAssembly binary. The first failure is kept in err and
// moves pos to the end, so callers check err once per loop iteration.
type reader struct {
	b    []byte
	pos  int
	base int // offset of b[0] in the module, for errors
	err  error
}

// fail records the first error, at the current offset.
func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %#x: %s", r.base+r.pos, fmt.Sprintf(format, args...))
	}
	r.pos = len(r.b)
}

func (r *reader) done() bool { return r.err != nil || r.pos >= len(r.b) }

func (r *reader) byte() byte {
	if r.pos >= len(r.b) {
		r.fail("unexpected end of input")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

// bytes returns the next n bytes.
func (r *reader) bytes(n uint64) []byte {
	if uint64(len(r.b)-r.pos) < n {
		r.fail("%d bytes needed, %d left", n, len(r.b)-r.pos)
		return nil
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s
}

// uleb reads an unsigned LEB128 number of at most bits bits (32 or 64).
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= bits {
			r.fail("unsigned LEB128 longer than %d bits", bits)
			return 0
		}
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if bits-shift < 7 && c>>(bits-shift) != 0 {
				r.fail("unsigned LEB128 overflows %d bits", bits)
				return 0
			}
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// sleb reads a signed LEB128 number of at most bits bits (32, 33 or 64).
// Only its length is checked against bits: the walker needs the value of
// block types alone, and wazero rejects out-of-range constants itself.
func (r *reader) sleb(bits uint) int64 {
	var v int64
	for shift := uint(0); ; {
		if shift >= bits {
			r.fail("signed LEB128 longer than %d bits", bits)
			return 0
		}
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

// name reads a length-prefixed string.
func (r *reader) name() string { return string(r.bytes(uint64(r.u32()))) }

// appendU32 appends v as an unsigned LEB128.
func appendU32(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// appendI32 appends v as a signed LEB128.
func appendI32(dst []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}
