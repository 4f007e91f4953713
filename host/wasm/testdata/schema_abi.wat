;; Drives json_schema_compile / json_schema_error / json_validate by hand.
;; on_configure compiles a good and a bad schema; each request answers 200
;; with one byte per check ('1' passed, '0' failed) followed by the reasons
;; json_validate gave for "{}".
(module
  (import "gateway_v1" "json_schema_compile" (func $compile (param i32 i32 i32) (result i32)))
  (import "gateway_v1" "json_schema_error" (func $error (param i32 i32) (result i32)))
  (import "gateway_v1" "json_validate" (func $validate (param i32 i32 i32 i32 i32) (result i32)))
  (import "gateway_v1" "send_response" (func $respond (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"type\":\"object\",\"required\":[\"a\"]}")  ;; 34 bytes
  (data (i32.const 64) "{\"type\":\"strin\"}")                       ;; 16 bytes
  (data (i32.const 128) "{\"a\":1}")                                  ;; 7 bytes
  (data (i32.const 160) "{}")                                         ;; 2 bytes
  (global $good (mut i32) (i32.const -100))
  (global $bad (mut i32) (i32.const -100))
  (global $errlen (mut i32) (i32.const -100))
  (func (export "gateway_abi_v1"))
  (func (export "on_configure") (param i32) (result i32)
    (global.set $good (call $compile (i32.const 0) (i32.const 34) (i32.const 0)))
    (global.set $bad (call $compile (i32.const 64) (i32.const 16) (i32.const 2020)))
    (global.set $errlen (call $error (i32.const 3000) (i32.const 512)))
    (i32.const 0))
  (func $check (param $i i32) (param $ok i32)
    (i32.store8 (i32.add (i32.const 1024) (local.get $i))
      (select (i32.const 49) (i32.const 48) (local.get $ok))))
  (func (export "on_request_headers") (result i32)
    (local $n i32)
    (call $check (i32.const 0) (i32.eq (global.get $good) (i32.const 0)))
    (call $check (i32.const 1) (i32.eq (global.get $bad) (i32.const -2)))
    (call $check (i32.const 2) (i32.gt_s (global.get $errlen) (i32.const 10)))
    ;; valid document
    (call $check (i32.const 3) (i32.eqz
      (call $validate (global.get $good) (i32.const 128) (i32.const 7) (i32.const 2000) (i32.const 256))))
    ;; invalid, limit 1: the length comes back, nothing is written
    (i32.store8 (i32.const 2000) (i32.const 0x7f))
    (local.set $n (call $validate (global.get $good) (i32.const 160) (i32.const 2) (i32.const 2000) (i32.const 1)))
    (call $check (i32.const 4) (i32.and (i32.gt_s (local.get $n) (i32.const 1))
      (i32.eq (i32.load8_u (i32.const 2000)) (i32.const 0x7f))))
    ;; an id this instance did not compile
    (call $check (i32.const 5) (i32.eq
      (call $validate (i32.const 99) (i32.const 160) (i32.const 2) (i32.const 2000) (i32.const 256)) (i32.const -1)))
    ;; compiling outside on_configure
    (call $check (i32.const 6) (i32.eq
      (call $compile (i32.const 0) (i32.const 34) (i32.const 0)) (i32.const -7)))
    ;; the reasons, after the checks
    (local.set $n (call $validate (global.get $good) (i32.const 160) (i32.const 2) (i32.const 1031) (i32.const 512)))
    (call $respond (i32.const 200) (i32.const 1024) (i32.add (i32.const 7) (local.get $n)))
    (i32.const 1)))
