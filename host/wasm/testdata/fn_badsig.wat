;; handle_event with the wrong signature.
(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "handle_event") (result i32) (i32.const 0)))
