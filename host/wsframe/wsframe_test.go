package wsframe

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// frame builds one frame with a payload of n bytes.
func frame(op byte, n int, masked bool) []byte {
	b := []byte{0x80 | op}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	if masked {
		b = append(b, 1, 2, 3, 4)
	}
	return append(b, bytes.Repeat([]byte{'x'}, n)...)
}

func TestScannerCountsAcrossSplits(t *testing.T) {
	var stream []byte
	sizes := []int{0, 5, 125, 126, 300, 65535, 65536, 70000}
	for i, n := range sizes {
		stream = append(stream, frame(OpText, n, i%2 == 0)...)
	}
	stream = append(stream, frame(OpPing, 3, true)...)
	for _, chunk := range []int{1, 2, 3, 7, 13, 4096, len(stream)} {
		var s Scanner
		for i := 0; i < len(stream); i += chunk {
			require.True(t, s.Scan(stream[i:min(i+chunk, len(stream))]))
			if i+chunk < len(stream) && i+chunk == len(frame(OpText, 0, true)) {
				assert.True(t, s.AtBoundary(), "after the first frame")
			}
		}
		assert.Equal(t, uint64(len(sizes)+1), s.Frames, "chunk %d", chunk)
		assert.Equal(t, uint64(len(sizes)), s.DataFrames, "chunk %d", chunk)
		assert.True(t, s.AtBoundary(), "chunk %d", chunk)
	}
}

func TestScannerMidFrameIsNotABoundary(t *testing.T) {
	var s Scanner
	f := frame(OpBinary, 10, true)
	require.True(t, s.Scan(f[:1]))
	assert.False(t, s.AtBoundary(), "inside the header")
	require.True(t, s.Scan(f[1:8]))
	assert.False(t, s.AtBoundary(), "inside the payload")
	require.True(t, s.Scan(f[8:]))
	assert.True(t, s.AtBoundary())
}

func TestScannerRefusesOversizeFrames(t *testing.T) {
	tests := []struct {
		name string
		max  int64
		n    int
		ok   bool
	}{
		{"at the limit", 32 << 10, 32 << 10, true},
		{"one over", 32 << 10, 32<<10 + 1, false},
		{"64-bit length", 1 << 20, 1<<20 + 1, false},
		{"no limit", 0, 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Scanner{Max: tt.max}
			f := frame(OpBinary, tt.n, true)
			// The verdict comes with the header, before any payload byte.
			hdr := 2 + 4
			if tt.n >= 126 {
				hdr += 2
			}
			if tt.n >= 1<<16 {
				hdr += 6
			}
			assert.Equal(t, tt.ok, s.Scan(f[:hdr]))
		})
	}
	var s Scanner
	assert.False(t, s.Scan([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}), "a length with the top bit set is refused")
}

func TestCloseFrame(t *testing.T) {
	f := CloseFrame(1001, "idle timeout", false)
	assert.Equal(t, []byte{0x88, 14, 0x03, 0xe9}, f[:4])
	assert.Equal(t, "idle timeout", string(f[4:]))
	m := CloseFrame(1009, string(bytes.Repeat([]byte{'r'}, 200)), true)
	assert.Equal(t, byte(0x80|125), m[1])
	assert.Len(t, m, 2+4+125)
	var s Scanner
	require.True(t, s.Scan(m))
	assert.True(t, s.AtBoundary())
	assert.Equal(t, uint64(1), s.Frames)
}

func FuzzScanner(f *testing.F) {
	f.Add(frame(OpText, 200, true), 3)
	f.Fuzz(func(t *testing.T, b []byte, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		var whole, split Scanner
		okWhole := whole.Scan(b)
		okSplit := true
		for i := 0; i < len(b) && okSplit; i += chunk {
			okSplit = split.Scan(b[i:min(i+chunk, len(b))])
		}
		if okWhole != okSplit || (okWhole && (whole.Frames != split.Frames || whole.AtBoundary() != split.AtBoundary())) {
			t.Fatalf("split scanning disagrees: whole %v/%d, split %v/%d", okWhole, whole.Frames, okSplit, split.Frames)
		}
	})
}

func BenchmarkScan(b *testing.B) {
	var stream []byte
	for range 64 {
		stream = append(stream, frame(OpText, 100, true)...)
	}
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		var s Scanner
		s.Scan(stream)
	}
}
