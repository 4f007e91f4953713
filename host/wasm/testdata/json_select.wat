;; Drives json_select by hand: selects /a/1/b, /zz and "" from a document and
;; answers 200 with the result, or 400 when a malformed document is not -2.
(module
  (import "gateway_v1" "json_select" (func $select (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "gateway_v1" "send_response" (func $respond (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"a\":[1,{\"b\":\"x\"}]}")  ;; 19 bytes
  (data (i32.const 64) "/a/1/b\00/zz\00\00")          ;; 12 bytes: three pointers
  (data (i32.const 96) "{\"a\":")                    ;; 5 bytes, malformed
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32)
    (local $n i32)
    (if (i32.ne (call $select (i32.const 96) (i32.const 5) (i32.const 64) (i32.const 12) (i32.const 1024) (i32.const 256)) (i32.const -2))
      (then (call $respond (i32.const 400) (i32.const 0) (i32.const 0)) (return (i32.const 1))))
    (local.set $n (call $select (i32.const 0) (i32.const 19) (i32.const 64) (i32.const 12) (i32.const 1024) (i32.const 256)))
    (call $respond (i32.const 200) (i32.const 1024) (local.get $n))
    (i32.const 1)))
