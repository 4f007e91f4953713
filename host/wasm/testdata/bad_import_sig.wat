(module
  (import "gateway_v1" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (i32.const 0)))
