;; Spins forever: the deadline must stop it.
(module
  (func (export "_start") (loop $l (br $l))))
