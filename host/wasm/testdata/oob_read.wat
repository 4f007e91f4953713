;; Hostile: passes an out-of-bounds pointer to log.
(module
  (import "gateway_v1" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32)
    (call $log (i32.const 0) (i32.const 65530) (i32.const 100))
    (i32.const 0)))
