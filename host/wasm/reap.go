package wasm

import (
	"context"
	"time"
)

// Instance pools (a plugin's, a function's) grow with the load up to their
// size and would keep every instance, each a Go runtime of a few MiB for a
// Go module, long after a burst. A reaper closes those that stayed idle.

// reapInterval is how often a pool with an idle timeout looks for idle
// instances: often enough that one lingers at most a quarter longer.
func reapInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/4, 10*time.Millisecond), 30*time.Second)
}

// reapEvery calls pass every interval until closed is closed.
func reapEvery(closed <-chan struct{}, interval time.Duration, pass func(now time.Time)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-closed:
			return
		case now := <-t.C:
			pass(now)
		}
	}
}

// closeIdle takes each instance of the idle pool once: one idle for timeout
// or longer, while more than keep instances live (sem holds one token per
// live instance), is discarded and its token freed; the others go back, or
// are discarded too when the pool has closed meanwhile. An instance is idle
// since its last call's start plus callTimeout, the latest that call can
// have ended. inst gives a pool entry's instance. It returns how many it
// closed for idling.
func closeIdle[T any](idle chan T, sem chan struct{}, closed <-chan struct{}, keep int, timeout, callTimeout time.Duration, now time.Time,
	inst func(T) *instance) int {
	n := 0
	for range len(idle) {
		var x T
		select {
		case x = <-idle:
		default:
			return n // calls took the rest
		}
		in := inst(x)
		if len(sem) > keep && now.Sub(in.lastCall.Add(callTimeout)) >= timeout {
			in.discard(context.Background())
			<-sem
			n++
			continue
		}
		select {
		case <-closed:
			in.discard(context.Background())
			<-sem
		default:
			idle <- x // back at the end: each is looked at once per pass
		}
	}
	return n
}
