;; Spins forever without output: the deadline stops it, 504.
(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))
