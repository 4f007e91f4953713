//go:build !linux

package wasm

// reserve is only implemented on Linux: elsewhere linear memory lives on the
// Go heap, grown by copying as wazero's default does.
func reserve(uint64) ([]byte, bool) { return nil, false }

func commit([]byte) error { return nil }

func unreserve([]byte) {}
