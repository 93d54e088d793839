;; The trivial module: returns from _start at once. Used to time a start.
(module
  (memory (export "memory") 1)
  (func (export "_start")))
