;; The smallest valid plugin: marker, memory and one phase that continues.
(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (i32.const 0)))
