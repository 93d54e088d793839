;; Grows memory by 128 MiB and traps when the grow is refused, like a C
;; program that aborts when malloc fails.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.eq (memory.grow (i32.const 2048)) (i32.const -1))
      (then unreachable))))
