package upstream

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmgate/gateway/host/config"
)

// BenchmarkPick measures Pick followed by Done, from all Ps at once, for each
// balancer, with and without circuit breakers.
func BenchmarkPick(b *testing.B) {
	balances := []config.Balance{config.BalanceRoundRobin, config.BalanceLeastRequests, config.BalanceHash, config.BalanceRandom}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "client-" + strconv.Itoa(i)
	}
	for _, breaker := range []bool{false, true} {
		for _, bal := range balances {
			for _, n := range []int{3, 100} {
				name := fmt.Sprintf("%s/targets=%d", bal, n)
				if breaker {
					name += "/breaker"
				}
				b.Run(name, func(b *testing.B) {
					weights := make([]int, n)
					for i := range weights {
						weights[i] = 1 + i%3
					}
					cfg := &config.Upstream{
						Name:          "bench",
						Targets:       weighted(weights...),
						Balance:       bal,
						PassiveHealth: &config.PassiveHealth{ConsecutiveFailures: 5, EjectDuration: time.Second},
					}
					if breaker {
						cfg.CircuitBreaker = &config.CircuitBreaker{ConsecutiveFailures: 5, OpenTimeout: time.Second}
					}
					p, err := New(b.Context(), cfg, Options{})
					if err != nil {
						b.Fatal(err)
					}
					defer p.Close(b.Context())
					var worker atomic.Uint64
					b.ReportAllocs()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						k := int(worker.Add(1)) * 7
						for pb.Next() {
							k++
							_, done, err := p.Pick(keys[k%len(keys)], nil)
							if err != nil {
								b.Error(err)
								return
							}
							done(200, nil)
						}
					})
				})
			}
		}
	}
}
