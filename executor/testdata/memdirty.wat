;; Grows its memory from 2 to 5 pages and writes 0xa5 over every byte: the
;; next run that gets a pooled buffer must not see any of it (memzero.wat).
(module
  (memory (export "memory") 2)
  (func (export "_start")
    (local $i i32) (local $end i32)
    (if (i32.eq (memory.grow (i32.const 3)) (i32.const -1)) (then unreachable))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (i64.store (local.get $i) (i64.const 0xa5a5a5a5a5a5a5a5))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $l)))))
