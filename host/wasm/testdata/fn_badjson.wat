;; A function whose response is not JSON.
(module
  (import "gateway_v1" "event_respond" (func $respond (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "not json")
  (func (export "gateway_abi_v1"))
  (func (export "handle_event") (param $len i32) (result i32)
    (drop (call $respond (i32.const 0) (i32.const 8)))
    (i32.const 0)))
