;; Imports a global (and a function, memory and table), defines two: the flag
;; must come after all four.
(module
  (import "env" "base" (global $base i32))
  (import "env" "seed" (global $seed (mut i32)))
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (import "env" "memory" (memory 1))
  (import "env" "table" (table 1 funcref))
  (global $a (mut i32) (global.get $base))
  (global $b i64 (i64.const 5))
  (func (export "count") (param $n i32) (result i32)
    (loop $l
      (global.set $a (i32.add (global.get $a) (call $twice (global.get $seed))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (global.get $a))
  (func (export "spin") (loop $l (br $l))))
