;; Tail calls (wazero experimental): a countdown, and one that never ends.
(module
  (func $down (export "down") (param $n i32) (param $acc i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $down (i32.sub (local.get $n) (i32.const 1)) (i32.add (local.get $acc) (i32.const 2))))))
  (func $forever (export "spin")
    (return_call $forever)))
