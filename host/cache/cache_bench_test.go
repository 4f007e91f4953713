package cache

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkMemoryGetHit(b *testing.B) {
	m := NewMemory(64 << 20)
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = Key("GET", "/v1/items", url.Values{"page": {fmt.Sprint(i)}}, nil, nil, nil)
		if err := m.Set(ctx, keys[i], &Entry{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: make([]byte, 1024), TTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)) * 7919
		for pb.Next() {
			i++
			if _, ok, _ := m.Get(ctx, keys[i&1023]); !ok {
				b.Fatal("miss")
			}
		}
	})
}

func BenchmarkKey(b *testing.B) {
	q := url.Values{"page": {"2"}, "sort": {"name"}, "utm_source": {"x"}}
	h := http.Header{"Accept-Language": {"en"}}
	sel, selH := []string{"sort", "page"}, []string{"Accept-Language"}
	b.ReportAllocs()
	for b.Loop() {
		Key("GET", "/v1/items", q, sel, h, selH)
	}
}
