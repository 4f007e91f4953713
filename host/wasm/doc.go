// Package wasm is the wazero host for gateway plugins: it owns the runtime of a
// config generation, compiles and validates plugins against ABI v1 (package
// abi), implements the gateway_v1 host module, runs bounded instance pools and
// applies memory limits and per-phase deadlines. It is the only package that
// imports wazero.
//
// Lifecycle: New builds a Host; Load compiles one plugin, validates its
// exports and imports, and instantiates one instance eagerly so that a broken
// module or a rejected config fails the load (a *ConfigError for the latter);
// Close closes everything and is safe after a partial New or Load.
//
// A *Plugin implements pipeline.Plugin. An instance is pinned to one request
// for all of its phases. After a trap, a timeout, a memory-limit hit or ABI
// misuse the instance is closed and never pooled again; the pool refills
// lazily. Faults are counted in gateway_plugin_faults_total{plugin,phase,reason}
// and logged with the plugin name and phase.
//
// Deadlines: every module is rewritten at load by internal/interrupt, which
// adds an interrupt flag checked at every loop and at function entries, and
// runs on a runtime without wazero's WithCloseOnContextDone (which costs Go
// guests 4-7x their speed). instance.call sets the flag when the call's
// context ends, and the guest traps at its next check; the call fails as it
// would have under WithCloseOnContextDone. A module the rewriter rejects
// runs, unchanged, on a runtime with WithCloseOnContextDone, and its load
// logs why.
package wasm
