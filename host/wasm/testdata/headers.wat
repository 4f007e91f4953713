;; Reads request header X-A into a buffer and sets it on the response as X-B:
;; one header_get and one header_set per request.
(module
  (import "gateway_v1" "header_get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "gateway_v1" "header_set" (func $set (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "X-A")
  (data (i32.const 8) "X-B")
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32)
    (local $n i32)
    (local.set $n (call $get (i32.const 0) (i32.const 0) (i32.const 3) (i32.const 64) (i32.const 256)))
    (if (i32.gt_s (local.get $n) (i32.const 0))
      (then (call $set (i32.const 1) (i32.const 8) (i32.const 3) (i32.const 64) (local.get $n))))
    (i32.const 0)))
