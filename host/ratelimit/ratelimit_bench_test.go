package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmgate/gateway/host/internal/redistest"
)

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("route:api|key:%08d", i)
	}
	return keys
}

func BenchmarkLocalAllow(b *testing.B) {
	l := NewLocal(LocalOptions{SweepInterval: -1})
	defer l.Close()
	keys := benchKeys(1024)
	ctx := context.Background()
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)) * 7919
		for pb.Next() {
			i++
			if _, err := l.Allow(ctx, keys[i&1023], 1e6, 1000); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLocalAllowOneKey(b *testing.B) {
	l := NewLocal(LocalOptions{SweepInterval: -1})
	defer l.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Allow(ctx, "hot", 1e6, 1000); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRedisAllow(b *testing.B) {
	addr, _ := redistest.Start(b)
	rl := NewRedis(newClient(b, addr), RedisOptions{})
	keys := benchKeys(1024)
	ctx := context.Background()
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)) * 7919
		for pb.Next() {
			i++
			if _, err := rl.Allow(ctx, keys[i&1023], 1e6, 1000); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkHeaders(b *testing.B) {
	d := Decision{Limit: 100, Remaining: 0, RetryAfter: 1500 * time.Millisecond, Reset: 3 * time.Second}
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		Headers(h, d, 10*time.Second)
	}
}
