;; Rejects its config with a reason.
(module
  (import "gateway_v1" "set_error" (func $err (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "missing field \"key\"")
  (func (export "gateway_abi_v1"))
  (func (export "on_configure") (param i32) (result i32)
    (call $err (i32.const 0) (i32.const 19))
    (i32.const 1))
  (func (export "on_request_headers") (result i32) (i32.const 0)))
