;; NeedsFiles: an import from another module
(module (import "env" "f" (func)) (memory (export "memory") 1) (func (export "_start")))
