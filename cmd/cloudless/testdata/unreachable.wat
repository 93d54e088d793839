;; Traps at once with `unreachable` (what C's abort() compiles to).
(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable))
