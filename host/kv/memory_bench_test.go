package kv

import (
	"context"
	"testing"
)

func BenchmarkMemoryGet(b *testing.B) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	_ = m.Set(ctx, "k", []byte("value"), 0)
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = m.Get(ctx, "k")
	}
}
