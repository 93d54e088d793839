;; Spins forever: only the wall-clock deadline stops it.
(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))
