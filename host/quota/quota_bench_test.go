package quota

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

func BenchmarkLocalConsume(b *testing.B) {
	l := NewLocal(LocalOptions{})
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%08d", i)
	}
	ctx := context.Background()
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)) * 7919
		for pb.Next() {
			i++
			if _, _, err := l.Consume(ctx, keys[i&1023], 1<<62, Month); err != nil {
				b.Fatal(err)
			}
		}
	})
}
