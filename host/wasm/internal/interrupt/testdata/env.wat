;; The "env" module imports.wat needs.
(module
  (global (export "base") i32 (i32.const 100))
  (global (export "seed") (mut i32) (i32.const 3))
  (memory (export "memory") 1)
  (table (export "table") 1 funcref)
  (func (export "twice") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))
