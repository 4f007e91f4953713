package wasm

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const page = 64 << 10

func TestLinearMemoryGrowsInPlace(t *testing.T) {
	m := newLinearMemory(4 * page)
	m.exit()
	if runtime.GOOS == "linux" {
		require.True(t, m.mapped, "the limit is reserved outside the Go heap")
	}
	b := m.Reallocate(page)
	require.Len(t, b, page)
	assert.Equal(t, page, cap(b), "nothing beyond the memory's size is reachable")
	b[page-1] = 7
	grown := m.Reallocate(3 * page)
	require.Len(t, grown, 3*page)
	if m.mapped {
		assert.Equal(t, unsafe.SliceData(b), unsafe.SliceData(grown), "growing does not move the memory")
	}
	assert.Equal(t, byte(7), grown[page-1], "growing keeps the contents")
	assert.Equal(t, make([]byte, 2*page), grown[page:], "new pages are zero")
	assert.Nil(t, m.Reallocate(5*page), "no growth beyond the limit")
	assert.Len(t, m.Reallocate(4*page), 4*page)
	m.Free()
	assert.Nil(t, m.buf)
}

func TestLinearMemoryOnHeap(t *testing.T) {
	m := newLinearMemory(0)
	m.exit()
	assert.False(t, m.mapped)
	assert.Len(t, m.Reallocate(0), 0)
	assert.Nil(t, m.Reallocate(1))

	m = &linearMemory{max: 2 * page} // as when the reservation failed
	b := m.Reallocate(page)
	b[0] = 1
	grown := m.Reallocate(2 * page)
	assert.Equal(t, byte(1), grown[0])
	assert.Len(t, grown, 2*page)
}

// TestLinearMemoryFree: a Free during a call (or the instantiation) waits for
// its end; no call enters freed memory.
func TestLinearMemoryFree(t *testing.T) {
	tests := []struct {
		name string
		run  func(m *linearMemory)
	}{
		{name: "idle: freed at once", run: func(m *linearMemory) {
			m.Free()
			assert.Nil(t, m.buf)
		}},
		{name: "during a call: freed when it ends", run: func(m *linearMemory) {
			require.True(t, m.enter())
			m.Free()
			require.NotNil(t, m.buf, "still in use")
			m.buf[0] = 1
			m.Free() // a second Free changes nothing
			require.NotNil(t, m.buf)
			m.exit()
			assert.Nil(t, m.buf)
		}},
		{name: "twice", run: func(m *linearMemory) {
			m.Free()
			m.Free()
			assert.Nil(t, m.buf)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newLinearMemory(page)
			m.Reallocate(page)
			m.exit() // the instantiation ends
			tc.run(m)
			assert.False(t, m.enter(), "no call enters freed memory")
			assert.Equal(t, memFreed, m.state.Load())
		})
	}
}

func TestLinearMemoryFreeDuringInstantiation(t *testing.T) {
	m := newLinearMemory(page)
	m.Reallocate(page)
	m.Free() // instantiation failed: wazero closes the module
	require.NotNil(t, m.buf)
	m.exit()
	assert.Nil(t, m.buf)
	assert.False(t, m.enter())
}
