// Package toolchain finds the compilers for gateway plugins in each supported
// language (Go, Rust, C, AssemblyScript, WAT) and builds a plugin source into
// a .wasm module with the commands of docs/plugin-languages.md.
//
// It is used by `gateway plugin build` and by the conformance suite
// (plugins/conformance), which builds the same plugin in every language at
// test time. A missing toolchain is reported by Find with the Debian or npm
// command that installs it, so callers can skip with a clear message.
package toolchain
