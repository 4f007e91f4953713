;; hello: the smallest useful gateway plugin, in hand-written WAT.
;; It sets the request header X-Hello to the plugin's whole config and the
;; response header X-Plugin to "hello". No allocator, no WASI: 294 bytes.
;; Build: wat2wasm plugin.wat -o hello.wasm   (or: gateway plugin build .)
(module
  (import "gateway_v1" "config_get" (func $config_get (param i32 i32) (result i32)))
  (import "gateway_v1" "header_set" (func $header_set (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1 1)
  (global $config_len (mut i32) (i32.const 0))
  (data (i32.const 16) "X-Hello")   ;; 7 bytes
  (data (i32.const 32) "X-Plugin")  ;; 8 bytes
  (data (i32.const 48) "hello")     ;; 5 bytes

  ;; The ABI version marker: required, never called.
  (func (export "gateway_abi_v1"))

  ;; on_configure: keep the config (JSON) at 1024, at most 1 KiB; reject
  ;; (non-zero) a longer one.
  (func (export "on_configure") (param $len i32) (result i32)
    (global.set $config_len (call $config_get (i32.const 1024) (i32.const 1024)))
    (i32.gt_u (global.get $config_len) (i32.const 1024)))

  ;; on_request_headers: X-Hello: <config>; 0 = continue.
  (func (export "on_request_headers") (result i32)
    (call $header_set (i32.const 0) (i32.const 16) (i32.const 7) (i32.const 1024) (global.get $config_len))
    (i32.const 0))

  ;; on_response_headers: X-Plugin: hello (header kind 1 = response).
  (func (export "on_response_headers") (result i32)
    (call $header_set (i32.const 1) (i32.const 32) (i32.const 8) (i32.const 48) (i32.const 5))
    (i32.const 0)))
