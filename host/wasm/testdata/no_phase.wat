(module
  (memory (export "memory") 1)
  (func (export "gateway_abi_v1")))
