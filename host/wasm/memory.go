package wasm

import (
	"errors"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// linearMemory backs one guest instance's linear memory. Where the OS allows
// (memory_linux.go), the instance's whole memory limit is reserved as
// address space outside the Go heap when it is created, and growing the
// memory only makes more of that reservation accessible: the bytes never
// move. wazero's default instead appends to a Go slice, which copies the
// memory and allocates its new size on the Go heap each time a guest's
// allocator grows it; when the instances of a pool grow together under load
// that stalls them for tens of milliseconds, enough to fail calls at their
// deadline.
//
// Unmapping memory a call is still using would crash the process, and
// wazero frees a module's memory as soon as the module is closed, which the
// runtime does to every module when the host closes. So the instance marks
// its memory busy for each call (enter, exit), and a Free that arrives
// during a call is carried out when the call returns.
type linearMemory struct {
	state atomic.Int32
	buf   []byte // the reservation (mapped) or the memory itself (heap)
	size  uint64 // accessible bytes
	max   uint64

	mapped bool
}

// The states of a linearMemory.
const (
	memIdle    int32 = iota
	memBusy          // a call (or the instantiation) is using the memory
	memFreeing       // Free arrived during a call; exit frees
	memFreed         // freed: no call may enter
)

// errMemoryFreed is a call on an instance whose module was closed (the host
// is closing): it is not made.
var errMemoryFreed = errors.New("the instance was closed: its memory is freed")

// newLinearMemory returns memory for up to max bytes, busy: the
// instantiation that allocates it uses it until instance.instantiate ends.
func newLinearMemory(max uint64) *linearMemory {
	m := &linearMemory{max: max}
	m.state.Store(memBusy)
	m.buf, m.mapped = reserve(max)
	return m
}

// allocatorFor returns the allocator that gives in its linear memory.
func allocatorFor(in *instance) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		in.linear = newLinearMemory(max)
		return in.linear
	})
}

// Reallocate implements experimental.LinearMemory: the memory grown (never
// shrunk) to size bytes, or nil when it cannot grow, which the guest sees as
// memory.grow failing.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if !m.mapped {
		if size > uint64(len(m.buf)) {
			m.buf = append(m.buf, make([]byte, size-uint64(len(m.buf)))...)
		}
		m.size = size
		return m.buf[:size:size]
	}
	if size > m.size {
		if err := commit(m.buf[m.size:size]); err != nil {
			return nil
		}
		m.size = size
	}
	return m.buf[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *linearMemory) Free() {
	for {
		switch s := m.state.Load(); s {
		case memIdle:
			if m.state.CompareAndSwap(memIdle, memFreed) {
				m.release()
				return
			}
		case memBusy:
			if m.state.CompareAndSwap(memBusy, memFreeing) {
				return
			}
		default: // already freed or freeing
			return
		}
	}
}

// enter marks the memory busy for a call. It reports false when the memory
// was freed: the call must not be made. Only the goroutine that holds the
// instance calls enter and exit.
func (m *linearMemory) enter() bool {
	return m.state.CompareAndSwap(memIdle, memBusy)
}

// exit ends what enter (or newLinearMemory) began, carrying out a Free that
// arrived meanwhile.
func (m *linearMemory) exit() {
	if m.state.CompareAndSwap(memBusy, memIdle) {
		return
	}
	if m.state.CompareAndSwap(memFreeing, memFreed) {
		m.release()
	}
}

// release gives the memory back; the state is memFreed and no call runs.
func (m *linearMemory) release() {
	if m.mapped {
		unreserve(m.buf)
	}
	m.buf, m.size = nil, 0
}
