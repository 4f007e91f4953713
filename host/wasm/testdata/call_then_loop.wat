;; The first on_request_headers makes one http_call, which the test's caller
;; holds until the phase deadline, and returns continue without passing
;; another interrupt check. Later ones run a short loop, which passes a check:
;; it traps if the gateway left the interrupt flag set.
(module
  (import "gateway_v1" "http_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "backendGET/")
  (global $calls (mut i32) (i32.const 0))
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32)
    (local $i i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eq (global.get $calls) (i32.const 1))
      (then
        (drop (call $call (i32.const 0) (i32.const 7) (i32.const 7) (i32.const 3) (i32.const 10) (i32.const 1)
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
        (return (i32.const 0))))
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))
    (i32.const 0)))
