;; Grows its memory a page at a time until memory.grow fails, then traps
;; (what a C or Go program does when malloc finds no memory).
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $l
      (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable))
