;; Hostile: asks the host to write a header value past the end of memory.
(module
  (import "gateway_v1" "header_get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "X-A")
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32)
    (drop (call $get (i32.const 0) (i32.const 0) (i32.const 3) (i32.const 65535) (i32.const 1000)))
    (i32.const 0)))
