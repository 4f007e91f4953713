//go:build guestprof

package wasm

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// A guest profiler for developers, built only with -tags guestprof: every
// guest function is wrapped by a wazero function listener that charges the
// time between two events to the function on top of the instance's shadow
// stack. Host.Close prints, to stderr, the functions by self time, the
// allocations (runtime.mallocgc calls) by their first caller outside the Go
// runtime, and the functions by inclusive time. The listener makes guest
// calls many times slower, call-dense code the most, so read shares and
// counts, not absolute times; and one lock serializes the listener, so with
// calls on several goroutines (a gateway under load) the times include
// waiting for it: profile with one caller, as a Go benchmark does. Guest function names need the module's name
// section: build plugins without -ldflags=-s (sdk/go/wasmtest does so under
// this tag). See docs/performance.md, "Profiling guest code".

func profileCtx(ctx context.Context) context.Context {
	return experimental.WithFunctionListenerFactory(ctx, profFactory{})
}

type profFactory struct{}

func (profFactory) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	return profListener{name: strings.TrimPrefix(def.DebugName(), ".")}
}

// profStack is one instance's shadow stack; an instance runs one call at a
// time.
type profStack struct {
	names []string
	start []time.Time
	last  time.Time
}

var prof = struct {
	sync.Mutex
	stacks  map[*instance]*profStack
	self    map[string]time.Duration
	incl    map[string]time.Duration
	calls   map[string]int64
	allocBy map[string]int64
}{stacks: map[*instance]*profStack{}, self: map[string]time.Duration{}, incl: map[string]time.Duration{},
	calls: map[string]int64{}, allocBy: map[string]int64{}}

type profListener struct{ name string }

func (l profListener) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	now := time.Now()
	prof.Lock()
	defer prof.Unlock()
	in := instanceFrom(ctx)
	st := prof.stacks[in]
	if st == nil {
		st = &profStack{}
		prof.stacks[in] = st
	}
	if n := len(st.names); n > 0 {
		prof.self[st.names[n-1]] += now.Sub(st.last)
	}
	if l.name == "runtime.mallocgc" {
		for i := len(st.names) - 1; i >= 0; i-- {
			if !strings.HasPrefix(st.names[i], "runtime.") {
				prof.allocBy[st.names[i]]++
				break
			}
		}
	}
	st.names = append(st.names, l.name)
	st.start = append(st.start, now)
	prof.calls[l.name]++
	st.last = time.Now()
}

func (l profListener) After(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64) {
	now := time.Now()
	prof.Lock()
	defer prof.Unlock()
	st := prof.stacks[instanceFrom(ctx)]
	if st == nil || len(st.names) == 0 {
		return
	}
	n := len(st.names)
	prof.self[st.names[n-1]] += now.Sub(st.last)
	prof.incl[st.names[n-1]] += now.Sub(st.start[n-1])
	st.names, st.start = st.names[:n-1], st.start[:n-1]
	st.last = time.Now()
}

func (l profListener) Abort(ctx context.Context, m api.Module, d api.FunctionDefinition, _ error) {
	l.After(ctx, m, d, nil)
}

// dumpGuestProfile prints the profile to stderr and resets it.
func dumpGuestProfile() {
	prof.Lock()
	defer prof.Unlock()
	if len(prof.calls) == 0 {
		return
	}
	var total time.Duration
	for _, d := range prof.self {
		total += d
	}
	w := os.Stderr
	fmt.Fprintf(w, "guest profile: %v of self time in guest functions\n\nby self time:\n", total)
	for i, name := range sortedBy(prof.self) {
		if i == 40 {
			break
		}
		fmt.Fprintf(w, "  %6.2f%%  self %12v  incl %12v  calls %9d  %s\n",
			100*float64(prof.self[name])/float64(total), prof.self[name], prof.incl[name], prof.calls[name], name)
	}
	fmt.Fprintf(w, "\nallocations (runtime.mallocgc) by first caller outside the Go runtime:\n")
	for i, name := range sortedBy(prof.allocBy) {
		if i == 25 {
			break
		}
		fmt.Fprintf(w, "  %9d  %s\n", prof.allocBy[name], name)
	}
	fmt.Fprintf(w, "\nby inclusive time:\n")
	for i, name := range sortedBy(prof.incl) {
		if i == 40 {
			break
		}
		fmt.Fprintf(w, "  incl %12v  self %12v  calls %9d  %s\n", prof.incl[name], prof.self[name], prof.calls[name], name)
	}
	clear(prof.stacks)
	clear(prof.self)
	clear(prof.incl)
	clear(prof.calls)
	clear(prof.allocBy)
}

func sortedBy[V int64 | time.Duration](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	return keys
}
