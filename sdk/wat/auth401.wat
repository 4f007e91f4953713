;; Short-circuit with 401 when the request has no Authorization header. docs/plugins-wat.md
(module
(import "gateway_v1" "header_get" (func $header_get (param i32 i32 i32 i32 i32) (result i32)))
(import "gateway_v1" "send_response" (func $send_response (param i32 i32 i32)))
(memory (export "memory") 1)
(func (export "gateway_abi_v1"))
(data (i32.const 64) "Authorization")   ;; 13 bytes
(data (i32.const 80) "unauthorized")    ;; 12 bytes
(func (export "on_request_headers") (result i32)
  (if (i32.eq (call $header_get (i32.const 0) (i32.const 64) (i32.const 13) (i32.const 0) (i32.const 0)) (i32.const -1))
    (then (call $send_response (i32.const 401) (i32.const 80) (i32.const 12))
          (return (i32.const 1))))
  (i32.const 0)))
