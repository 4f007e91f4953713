(module
  (import "gateway_v1" "teleport" (func $t))
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (call $t) (i32.const 0)))
