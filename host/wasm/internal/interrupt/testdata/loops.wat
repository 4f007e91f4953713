;; Loops of every shape the rewriter meets in compiler output, with exports
;; whose results must not change when it adds its checks.
(module
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 7))
  (func $leaf (param i32) (result i32)
    (i32.add (local.get 0) (global.get $g)))

  ;; Nested loops: sum of i*j for i, j < n.
  (func (export "nested") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $s i32)
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))

  ;; A loop with a parameter and a result (multi-value): count down from n,
  ;; keeping the running sum on the stack.
  (func (export "multi") (param $n i32) (result i32)
    (i32.const 0)
    (local.get $n)
    (loop $l (param i32 i32) (result i32 i32)
      local.set $n
      local.get $n
      i32.add
      local.get $n
      i32.const 1
      i32.sub
      local.tee $n
      local.get $n
      i32.const 0
      i32.ne
      br_if $l)
    (drop))

  ;; br_table back to two loops (a small state machine).
  (func (export "table") (param $n i32) (result i32)
    (local $state i32) (local $steps i32)
    (block $done
      (loop $a
        (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
        (loop $b
          (local.set $steps (i32.add (local.get $steps) (i32.const 2)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $state (i32.and (local.get $n) (i32.const 1)))
          (br_table $a $b $done (local.get $state)))))
    (local.get $steps))

  ;; A function that calls another and loops only after straight-line code
  ;; with a branch, so it gets a check at its entry too.
  (func (export "calls") (param $n i32) (result i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const -1))))
    (call $leaf (local.get $n)))

  ;; Naive Fibonacci: a call tree with no loop at all.
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add
        (call $fib (i32.sub (local.get $n) (i32.const 1)))
        (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  ;; Never returns.
  (func (export "spin")
    (loop $l (br $l)))

  ;; Never returns either, without a loop: 2^64 calls.
  (func (export "recurse")
    (drop (call $fib (i32.const 64)))))
