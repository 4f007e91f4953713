package interrupt

import "fmt"

// Opcodes and type codes the walker names (core spec 5.3 and 5.4; wazero's
// internal/wasm/instruction.go for the proposals).
const (
	opUnreachable  = 0x00
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opEnd          = 0x0b
	opDrop         = 0x1a
	opTryTable     = 0x1f
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opMemoryGrow   = 0x40
	opI32Const     = 0x41
	opI32Eqz       = 0x45
	opI32Sub       = 0x6b
	opRefNull      = 0xd0
	prefixMisc     = 0xfc
	prefixVec      = 0xfd
	prefixAtomic   = 0xfe
	blockEmpty     = 0x40
	valI32         = 0x7f
	refNullable    = 0x63
	refNonNullable = 0x64
)

// globals are the indexes of the globals Instrument adds.
type globals struct{ flag, budget uint32 }

// check returns the instructions of one check:
//
//	global.get $flag
//	if
//	  unreachable
//	end
//	global.get $budget
//	i32.const 1
//	i32.sub
//	global.set $budget
//	global.get $budget
//	i32.eqz
//	if
//	  i32.const YieldInterval
//	  global.set $budget
//	  i32.const 0
//	  memory.grow
//	  drop
//	end
func (g globals) check() []byte {
	c := appendU32([]byte{opGlobalGet}, g.flag)
	c = append(c, opIf, blockEmpty, opUnreachable, opEnd)
	c = appendU32(append(c, opGlobalGet), g.budget)
	c = append(c, opI32Const, 1, opI32Sub)
	c = appendU32(append(c, opGlobalSet), g.budget)
	c = appendU32(append(c, opGlobalGet), g.budget)
	c = append(c, opI32Eqz, opIf, blockEmpty, opI32Const)
	c = appendI32(c, YieldInterval)
	c = appendU32(append(c, opGlobalSet), g.budget)
	return append(c, opI32Const, 0, opMemoryGrow, 0, opDrop, opEnd)
}

// maxLocals bounds a function's locals, as web engines do: wazero allocates
// them all at compilation.
const maxLocals = 50000

// instrumentCode appends the code section read by r to dst, with a check
// (globals.check) at every point checkPoints finds.
func instrumentCode(dst []byte, r *reader, g globals) ([]byte, error) {
	check := g.check()
	n := r.u32()
	dst = appendU32(dst, n)
	var at []int
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		off := r.base + r.pos
		b := r.bytes(uint64(size))
		if r.err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, r.err)
		}
		var err error
		if at, err = checkPoints(at[:0], b, off); err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		grown := uint64(len(b)) + uint64(len(at))*uint64(len(check))
		if grown > 1<<32-1 {
			return nil, fmt.Errorf("function body %d: too large to instrument", i)
		}
		dst = appendU32(dst, uint32(grown))
		prev := 0
		for _, p := range at {
			dst = append(dst, b[prev:p]...)
			dst = append(dst, check...)
			prev = p
		}
		dst = append(dst, b[prev:]...)
	}
	if r.err == nil && r.pos != len(r.b) {
		r.fail("bytes after the last function body")
	}
	return dst, r.err
}

// checkPoints walks one function body b (at offset off in the module) and
// appends to at, in order, the offsets in b where a check goes: the start of
// every loop body, right after the loop's block type, and the start of the
// body's instructions if the function calls another, unless straight-line
// code leads from there into a loop (as in every function Go compiles),
// whose check then comes first.
func checkPoints(at []int, b []byte, off int) ([]int, error) {
	r := &reader{b: b, base: off}
	var locals uint64
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		locals += uint64(r.u32())
		valType(r, r.byte())
	}
	if locals > maxLocals {
		r.fail("%d locals, over %d", locals, maxLocals)
	}
	entry := r.pos
	calls, prefix, loopFirst := false, true, false
	depth := 0
walk:
	for r.err == nil {
		if r.pos == len(b) {
			r.fail("function body ends without its end instruction")
			break
		}
		start := r.pos
		op := r.byte()
		if prefix {
			switch {
			case op == opLoop:
				loopFirst, prefix = true, false
			case op != opBlock && !straight(op):
				prefix = false
			}
		}
		switch op {
		case 0x00, 0x01, 0x05, 0x0a, 0x0f, 0x1a, 0x1b, 0xd1, 0xd4:
			// unreachable, nop, else, throw_ref, return, drop, select,
			// ref.is_null, ref.as_non_null
		case opBlock, opIf:
			blockType(r)
			depth++
		case opLoop:
			blockType(r)
			depth++
			at = append(at, r.pos)
		case opTryTable:
			blockType(r)
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				switch kind := r.byte(); kind {
				case 0x00, 0x01: // catch, catch_ref: tag, label
					r.u32()
					r.u32()
				case 0x02, 0x03: // catch_all, catch_all_ref: label
					r.u32()
				default:
					r.fail("unknown catch kind %#x", kind)
				}
			}
			depth++
		case opEnd:
			if depth == 0 {
				if r.pos != len(b) {
					r.fail("bytes after the function's end instruction")
				}
				break walk
			}
			depth--
		case 0x08, 0x0c, 0x0d, 0xd2, 0xd5, 0xd6:
			// throw, br, br_if, ref.func, br_on_null, br_on_non_null
			r.u32()
		case 0x0e: // br_table: the labels, then the default
			for n := uint64(r.u32()) + 1; n > 0 && r.err == nil; n-- {
				r.u32()
			}
		case 0x10, 0x12, 0x14, 0x15: // call, return_call, call_ref, return_call_ref
			r.u32()
			calls = true
		case 0x11, 0x13: // call_indirect, return_call_indirect: type, table
			r.u32()
			r.u32()
			calls = true
		case 0x1c: // typed select: wazero takes exactly one type
			if c := r.byte(); c != 1 {
				r.fail("typed select with %d types", c)
			}
			valType(r, r.byte())
		case 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26:
			// local.get/set/tee, global.get/set, table.get/set
			r.u32()
		case 0x3f, 0x40: // memory.size, memory.grow: memory index
			r.u32()
		case 0x41:
			r.sleb(32)
		case 0x42:
			r.sleb(64)
		case 0x43:
			r.bytes(4)
		case 0x44:
			r.bytes(8)
		case opRefNull:
			// As wazero reads it: an abstract type byte, else a type index.
			switch c := r.peek(); c {
			case 0x70, 0x6f, 0x69:
				r.byte()
			default:
				r.u32()
			}
		case prefixMisc:
			misc(r)
		case prefixVec:
			vec(r)
		case prefixAtomic:
			atomic(r)
		default:
			switch {
			case op >= 0x28 && op <= 0x3e: // loads and stores
				memArg(r)
			case op >= 0x45 && op <= 0xc4: // numeric, sign extension
			default:
				r.pos = start
				r.fail("unknown opcode %#x", op)
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if calls && !loopFirst {
		at = append(at, 0)
		copy(at[1:], at)
		at[0] = entry
	}
	return at, nil
}

// straight reports whether op always goes on to the next instruction (or
// traps): it neither branches nor calls.
func straight(op byte) bool {
	switch {
	case op == 0x01, op == 0x1a, op == 0x1b, op == 0x1c: // nop, drop, select
	case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
	case op >= 0x28 && op <= 0xc4: // memory, constants, numeric
	case op == opRefNull, op == 0xd1, op == 0xd2, op == 0xd4:
	case op == prefixMisc, op == prefixVec:
	default:
		return false
	}
	return true
}

func (r *reader) peek() byte {
	if r.pos >= len(r.b) {
		r.fail("unexpected end of input")
		return 0
	}
	return r.b[r.pos]
}

// valType reads the rest of a value type that starts with byte c.
func valType(r *reader, c byte) {
	switch c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x69:
		// i32, i64, f32, f64, v128, funcref, externref, exnref
	case refNullable, refNonNullable:
		r.sleb(33) // heap type
	default:
		if r.err == nil {
			r.fail("unknown value type %#x", c)
		}
	}
}

// blockType reads a block type: empty, one value type or a type index, as
// a signed 33-bit LEB128 like wazero's DecodeBlockType.
func blockType(r *reader) {
	v := r.sleb(33)
	switch {
	case r.err != nil || v >= 0: // a type index
	case v == -64, v == -1, v == -2, v == -3, v == -4, v == -5, v == -16, v == -17, v == -23:
		// empty, i32, i64, f32, f64, v128, funcref, externref, exnref
	case v == -29, v == -28: // (ref null ht), (ref ht)
		r.sleb(33)
	default:
		r.fail("unknown block type %d", v)
	}
}

// memArg reads alignment and offset.
func memArg(r *reader) {
	r.u32()
	r.u32()
}

// misc reads a 0xfc instruction; its opcode is an unsigned LEB128.
func misc(r *reader) {
	switch op := r.u32(); op {
	case 0, 1, 2, 3, 4, 5, 6, 7: // trunc_sat
	case 9, 11, 13, 15, 16, 17:
		// data.drop, memory.fill, elem.drop, table.grow/size/fill: one index
		r.u32()
	case 8, 10, 12, 14:
		// memory.init, memory.copy, table.init, table.copy: two indexes
		r.u32()
		r.u32()
	default:
		if r.err == nil {
			r.fail("unknown instruction 0xfc %d", op)
		}
	}
}

// vecUnknown marks the 0xfd opcodes below 0x100 that SIMD leaves unused.
var vecUnknown = func() (u [256]bool) {
	for _, op := range []byte{0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee} {
		u[op] = true
	}
	return u
}()

// vec reads a 0xfd (SIMD) instruction. wazero reads its opcode as one byte;
// so does the walker, so that both see the same instruction boundaries (an
// opcode from 0x80 is encoded as two LEB128 bytes, the second 0x01, which
// both then read as a nop).
func vec(r *reader) {
	op := r.byte()
	switch {
	case r.err != nil:
	case op <= 0x0b, op == 0x5c, op == 0x5d: // loads, store
		memArg(r)
	case op == 0x0c, op == 0x0d: // v128.const, i8x16.shuffle
		r.bytes(16)
	case op >= 0x15 && op <= 0x22: // extract_lane, replace_lane
		r.byte()
	case op >= 0x54 && op <= 0x5b: // load_lane, store_lane
		memArg(r)
		r.byte()
	case vecUnknown[op]:
		r.fail("unknown instruction 0xfd %#x", op)
	}
}

// atomic reads a 0xfe (threads) instruction; its opcode is one byte.
func atomic(r *reader) {
	op := r.byte()
	switch {
	case r.err != nil:
	case op == 0x03: // atomic.fence
		r.byte()
	case op <= 0x02, op >= 0x10 && op <= 0x4e: // notify, wait, loads, stores, rmw
		memArg(r)
	default:
		r.fail("unknown instruction 0xfe %#x", op)
	}
}
