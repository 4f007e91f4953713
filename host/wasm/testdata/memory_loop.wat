;; on_request_headers logs "busy" (level info), then writes its 64 KiB of
;; memory over and over until it is interrupted: a call that uses its memory
;; while the test closes the host.
(module
  (import "gateway_v1" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "busy")
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32)
    (local $i i32)
    (call $log (i32.const 0) (i32.const 0) (i32.const 4))
    (loop $l
      (i32.store8 (local.get $i) (local.get $i))
      (local.set $i (i32.and (i32.add (local.get $i) (i32.const 1)) (i32.const 0xffff)))
      (br $l))
    (i32.const 0)))
