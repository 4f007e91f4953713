package wasm

import "syscall"

// reserve reserves n bytes of address space that cannot be accessed yet, so
// it counts against no commit limit; ok is false when that fails (no
// address space, or n is 0), and the memory then lives on the Go heap.
func reserve(n uint64) (b []byte, ok bool) {
	if n == 0 || n > 1<<40 {
		return nil, false
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, false
	}
	return b, true
}

// commit makes b, a page-aligned part of a reservation, readable and
// writable; its pages are zero and take memory when first touched.
func commit(b []byte) error {
	return syscall.Mprotect(b, syscall.PROT_READ|syscall.PROT_WRITE)
}

// unreserve returns a reservation to the OS.
func unreserve(b []byte) {
	_ = syscall.Munmap(b)
}
