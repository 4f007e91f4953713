(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v2"))
  (func (export "on_request_headers") (result i32) (i32.const 0)))
