;; SIMD instructions with every kind of immediate, inside a loop.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00\04\00\00\00")
  (func (export "sum") (param $n i32) (result i32)
    (local $v v128)
    (local.set $v (v128.const i32x4 0 0 0 0))
    (loop $l
      (local.set $v (i32x4.add (local.get $v) (v128.load offset=0 align=4 (i32.const 0))))
      (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))
      (local.set $v (v128.load32_lane 2 (i32.const 4) (local.get $v)))
      (local.set $v (i32x4.replace_lane 3 (local.get $v) (i32.add (i32x4.extract_lane 3 (local.get $v)) (i32.const 1))))
      (local.set $v (i16x8.abs (local.get $v)))
      (v128.store (i32.const 32) (local.get $v))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.ne (local.get $n) (i32.const 0))))
    (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))
