;; The smallest plugin: lets every request through (89 bytes). docs/plugins-wat.md
(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1"))
  (func (export "on_request_headers") (result i32) (i32.const 0)))
