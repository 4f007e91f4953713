;; Hostile: on_request_headers runs 2^64 calls (naive Fibonacci) without a
;; single loop.
(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func $fib (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add
        (call $fib (i64.sub (local.get $n) (i64.const 1)))
        (call $fib (i64.sub (local.get $n) (i64.const 2)))))))
  (func (export "on_request_headers") (result i32)
    (drop (call $fib (i64.const 64)))
    (i32.const 0)))
