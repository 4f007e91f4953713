;; Hostile: on_request_headers never returns.
(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (loop $l (br $l)) (i32.const 0)))
