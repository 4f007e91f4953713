// Package interrupt rewrites a WebAssembly module so that its host can stop a
// running call cheaply, without wazero's WithCloseOnContextDone.
//
// wazero's WithCloseOnContextDone compiles, at every loop header, a call to a
// trampoline that exits the compiled code into Go to ask whether the module
// was closed. Go's wasm code passes through loop headers all the time, so a Go
// guest runs 4-7 times slower with it. Instrument instead adds two mutable i32
// globals, the interrupt flag and a budget, and a check of them in the
// module's own code:
//
//	global.get $flag      ;; set by the host when the call's context ends
//	if
//	  unreachable
//	end
//	global.get $budget    ;; every YieldInterval checks, exit into Go
//	i32.const 1
//	i32.sub
//	global.set $budget
//	global.get $budget
//	i32.eqz
//	if
//	  i32.const 1024      ;; YieldInterval
//	  global.set $budget
//	  i32.const 0
//	  memory.grow
//	  drop
//	end
//
// The check goes at the start of every loop body (backward branches can only
// target a loop, so every unbounded loop passes a check on each iteration) and
// at the entry of every function that calls another function (so call trees
// that never loop, such as naive recursion, pass a check on each call; a
// function that calls nothing runs a bounded number of instructions), unless
// straight-line code leads from the entry into a loop, whose check then comes
// first.
//
// The exit into Go is what lets the rest of the process run: Go cannot preempt
// a goroutine while it runs wazero's compiled code, so a guest that never left
// it would hold its thread, block every stop-the-world (each garbage
// collection) and with it the whole process, including the goroutine that
// would set the flag. memory.grow 0 leaves compiled code for a Go function
// (which is a preemption point) and changes nothing; a module without a
// memory gets an empty one, (memory 0 0), for it. wazero itself hit this
// limit (wazero/wazero#2525): its checks exit into Go on every loop
// iteration, which is their cost.
//
// The host arms the flag per call: it sets the exported global FlagExport to 1
// when the call's context ends (context.AfterFunc), and the guest traps with
// unreachable at its next check. After such a trap the instance is discarded;
// after a call that returned normally the host resets the flag to 0.
//
// The globals are appended after the module's own, so no existing global
// index moves, and the guest has no instruction that refers to them. A start
// section, which would run inside instantiation where no flag can be armed
// yet, is removed and its function exported as StartExport for the host to
// call. DWARF custom sections (.debug_*) are dropped: they describe code
// offsets the rewrite moves. Other custom sections, including "name", are kept.
//
// The instruction walker knows every instruction wazero v1.12 decodes: the
// 2.0 core spec (sign extension, non-trapping conversions, bulk memory,
// reference types, multi-value blocks, SIMD) and wazero's experimental tail
// calls, threads, typed function references and exception handling
// (try_table). It reads immediates exactly as wazero does. For anything else
// Instrument returns an error, and the host must fall back to wazero's own
// checks; it never returns a module without checks.
package interrupt
