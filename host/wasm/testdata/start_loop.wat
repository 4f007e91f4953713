;; Hostile: its start function never returns.
(module
  (memory (export "memory") 1)
  (func $start (loop $l (br $l)))
  (start $start)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (i32.const 0)))
