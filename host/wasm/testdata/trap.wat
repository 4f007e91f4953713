;; Hostile: traps with unreachable.
(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) unreachable))
