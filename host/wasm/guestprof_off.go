//go:build !guestprof

package wasm

import "context"

// profileCtx and dumpGuestProfile are no-ops unless the gateway is built
// with -tags guestprof (guestprof.go).
func profileCtx(ctx context.Context) context.Context { return ctx }

func dumpGuestProfile() {}
