;; Hostile: returns an action that does not exist.
(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (i32.const 7)))
