;; Hostile, and exports the name the gateway reserves for its interrupt flag,
;; so the gateway cannot instrument it and falls back to wazero's checks.
(module
  (memory (export "memory") 1)
  (global (export "wasmgate.interrupt") (mut i32) (i32.const 0))
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (loop $l (br $l)) (i32.const 0)))
