;; Legacy exception handling (try/catch), which wazero does not run: the
;; rewriter rejects it and the host falls back.
(module
  (tag $e)
  (func (export "f")
    (try (do (throw $e)) (catch $e))))
