;; Calls itself without end: the engine's call stack overflows.
(module
  (memory (export "memory") 1)
  (func $f (call $f))
  (func (export "_start") (call $f)))
