;; NeedsFiles: no imports (memout_test.go)
(module (memory (export "memory") 1) (func (export "_start")))
