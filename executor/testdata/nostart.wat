;; A reactor-style module with no _start.
(module
  (memory (export "memory") 1)
  (func (export "main")))
