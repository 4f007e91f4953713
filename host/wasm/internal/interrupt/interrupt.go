package interrupt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Reserved export names Instrument adds. A module that already exports
// either is not instrumented.
const (
	// FlagExport names the interrupt flag, a mutable i32 global: while it is
	// not 0, the guest traps with unreachable at its next check.
	FlagExport = "wasmgate.interrupt"
	// StartExport names the function of the module's start section, when it
	// had one. The host calls it right after instantiation, before anything
	// else, as instantiation would have.
	StartExport = "wasmgate.start"
)

// Section ids (core spec 5.5.2; 13 is the exception-handling tag section).
const (
	secCustom    = 0
	secImport    = 2
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secCode      = 10
	secDataCount = 12
	secTag       = 13
)

// rank is the position of each non-custom section id in a valid module.
var rank = [...]int{1: 1, 2: 2, 3: 3, 4: 4, secMemory: 5, secTag: 6, secGlobal: 7, secExport: 8, secStart: 9, 9: 10, secDataCount: 11, secCode: 12, 11: 13}

// YieldInterval is how many checks pass between two exits into Go (see the
// package documentation).
const YieldInterval = 1024

// External kinds in imports and exports.
const (
	kindFunc   = 0x00
	kindTable  = 0x01
	kindMemory = 0x02
	kindGlobal = 0x03
	kindTag    = 0x04
)

var magic = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

type section struct {
	id      byte
	payload []byte
	offset  int // of payload in the module
}

// Instrument returns a copy of the module bin with interrupt checks (see the
// package documentation), its flag exported as FlagExport, an empty memory if
// it had none, and StartExport in place of its start section if it had one. It returns an error for a malformed module, one that
// uses an instruction or encoding the walker does not know, or one that
// already uses a reserved export name; the host must then run the module with
// wazero's own interruption checks instead.
func Instrument(bin []byte) ([]byte, error) {
	if !bytes.HasPrefix(bin, magic) {
		return nil, errors.New("not a WebAssembly 1.0 binary module (bad magic or version)")
	}
	secs, err := splitSections(bin)
	if err != nil {
		return nil, err
	}

	var (
		importedGlobals, definedGlobals uint32
		hasMemory, hasStart             bool
		start                           uint32
	)
	for _, s := range secs {
		r := &reader{b: s.payload, base: s.offset}
		switch s.id {
		case secImport:
			var memories uint32
			importedGlobals, memories = countImports(r)
			hasMemory = hasMemory || memories > 0
		case secMemory:
			hasMemory = hasMemory || r.u32() > 0
		case secGlobal:
			definedGlobals = r.u32()
		case secExport:
			checkExportNames(r)
		case secStart:
			hasStart, start = true, r.u32()
		}
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", s.id, r.err)
		}
	}
	flag := uint64(importedGlobals) + uint64(definedGlobals)
	if flag+1 > 1<<32-1 {
		return nil, errors.New("too many globals to add the interrupt flag")
	}
	g := globals{flag: uint32(flag), budget: uint32(flag) + 1}

	out := make([]byte, 0, len(bin)+len(bin)/8+64)
	out = append(out, magic...)
	var body []byte // reused section payload
	wroteMemory, wroteGlobal, wroteExport := hasMemory, false, false
	emitMissing := func(before int) {
		if !wroteMemory && before > rank[secMemory] {
			// memory.grow needs a memory: (memory 0 0).
			out = appendSection(out, secMemory, []byte{1, 0x01, 0, 0})
			wroteMemory = true
		}
		if !wroteGlobal && before > rank[secGlobal] {
			out = appendSection(out, secGlobal, appendGlobals(appendU32(body[:0], 2)))
			wroteGlobal = true
		}
		if !wroteExport && before > rank[secExport] {
			body = appendU32(body[:0], exportCount(0, hasStart))
			out = appendSection(out, secExport, appendExports(body, g.flag, hasStart, start))
			wroteExport = true
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			emitMissing(rank[s.id])
		}
		r := &reader{b: s.payload, base: s.offset}
		switch s.id {
		case secCustom:
			name := r.name()
			if r.err != nil {
				return nil, fmt.Errorf("custom section: %w", r.err)
			}
			if strings.HasPrefix(name, ".debug_") {
				continue // DWARF: its code offsets would be wrong
			}
			out = appendSection(out, s.id, s.payload)
		case secMemory:
			if !wroteMemory { // a memory section with no memory
				emitMissing(rank[secMemory] + 1)
				continue
			}
			out = appendSection(out, s.id, s.payload)
		case secGlobal:
			n := r.u32()
			body = appendU32(body[:0], n+2)
			body = append(body, s.payload[r.pos:]...)
			out = appendSection(out, secGlobal, appendGlobals(body))
			wroteGlobal = true
		case secExport:
			n := r.u32()
			body = appendU32(body[:0], exportCount(n, hasStart))
			body = append(body, s.payload[r.pos:]...)
			out = appendSection(out, secExport, appendExports(body, g.flag, hasStart, start))
			wroteExport = true
		case secStart:
			// Exported as StartExport instead.
		case secCode:
			body, err = instrumentCode(body[:0], r, g)
			if err != nil {
				return nil, fmt.Errorf("code section: %w", err)
			}
			out = appendSection(out, secCode, body)
		default:
			out = appendSection(out, s.id, s.payload)
		}
	}
	emitMissing(len(rank) + 1)
	return out, nil
}

// splitSections splits a module after its header into sections and checks
// their ids and order.
func splitSections(bin []byte) ([]section, error) {
	r := &reader{b: bin, pos: len(magic)}
	var secs []section
	last := 0
	for !r.done() {
		id := r.byte()
		size := r.u32()
		off := r.pos
		payload := r.bytes(uint64(size))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		if id != secCustom {
			if int(id) >= len(rank) || rank[id] == 0 {
				return nil, fmt.Errorf("offset %#x: unknown section id %d", off, id)
			}
			if rank[id] <= last {
				return nil, fmt.Errorf("offset %#x: section %d out of order", off, id)
			}
			last = rank[id]
			if id != secStart && id != secDataCount {
				// Every entry of a vector takes at least one byte.
				v := &reader{b: payload, base: off}
				if n := v.u32(); v.err == nil && uint64(n) > uint64(len(payload)-v.pos) {
					return nil, fmt.Errorf("offset %#x: section %d declares %d entries in %d bytes", off, id, n, len(payload)-v.pos)
				}
			}
		}
		secs = append(secs, section{id: id, payload: payload, offset: off})
	}
	return secs, nil
}

// countImports reads the import section and returns how many globals and
// memories it imports.
func countImports(r *reader) (globals, memories uint32) {
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case kindFunc:
			r.u32()
		case kindTable:
			if c := r.byte(); c == refNullable || c == refNonNullable {
				r.sleb(33)
			}
			limits(r)
		case kindMemory:
			limits(r)
			memories++
		case kindGlobal:
			valType(r, r.byte())
			r.byte() // mutability
			globals++
		case kindTag:
			r.byte() // attribute
			r.u32()
		default:
			r.fail("unknown import kind %#x", kind)
		}
	}
	if r.err == nil && r.pos != len(r.b) {
		r.fail("trailing bytes")
	}
	return globals, memories
}

// limits reads table or memory limits as wazero does (flags 0 to 3).
func limits(r *reader) {
	switch flags := r.byte(); flags {
	case 0x00, 0x02:
		r.u32()
	case 0x01, 0x03:
		r.u32()
		r.u32()
	default:
		r.fail("unknown limits flags %#x", flags)
	}
}

// checkExportNames fails if the module already uses a reserved name.
func checkExportNames(r *reader) {
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		if name := r.name(); name == FlagExport || name == StartExport {
			r.fail("the module already exports %q, a name reserved for the gateway", name)
		}
		r.byte()
		r.u32()
	}
	if r.err == nil && r.pos != len(r.b) {
		r.fail("trailing bytes")
	}
}

func exportCount(n uint32, hasStart bool) uint32 {
	if hasStart {
		return n + 2
	}
	return n + 1
}

// appendGlobals appends the definitions of the flag,
// (global (mut i32) (i32.const 0)), and of the budget,
// (global (mut i32) (i32.const YieldInterval)).
func appendGlobals(dst []byte) []byte {
	dst = append(dst, valI32, 0x01, opI32Const, 0x00, opEnd)
	dst = append(dst, valI32, 0x01, opI32Const)
	dst = appendI32(dst, YieldInterval)
	return append(dst, opEnd)
}

// appendExports appends the reserved exports.
func appendExports(dst []byte, flag uint32, hasStart bool, start uint32) []byte {
	dst = appendU32(dst, uint32(len(FlagExport)))
	dst = append(dst, FlagExport...)
	dst = append(dst, kindGlobal)
	dst = appendU32(dst, flag)
	if hasStart {
		dst = appendU32(dst, uint32(len(StartExport)))
		dst = append(dst, StartExport...)
		dst = append(dst, kindFunc)
		dst = appendU32(dst, start)
	}
	return dst
}

func appendSection(dst []byte, id byte, payload []byte) []byte {
	dst = append(dst, id)
	dst = appendU32(dst, uint32(len(payload)))
	return append(dst, payload...)
}
