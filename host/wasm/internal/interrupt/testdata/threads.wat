;; Atomics (wazero experimental threads) in a loop.
(module
  (memory (export "memory") 1 1 shared)
  (func (export "count") (param $n i32) (result i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 3)))
      (atomic.fence)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.ne (local.get $n) (i32.const 0))))
    (i32.atomic.load (i32.const 0))))
