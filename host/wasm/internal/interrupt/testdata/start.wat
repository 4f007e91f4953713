;; A start section: the rewriter exports its function instead.
(module
  (global $ready (mut i32) (i32.const 0))
  (func $init (loop $l (br_if $l (i32.eqz (global.get $ready)))))
  (func $set (global.set $ready (i32.const 1)))
  (start $set)
  (func (export "ready") (result i32) (global.get $ready))
  (export "init" (func $init)))
