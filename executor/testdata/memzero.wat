;; Checks that its memory is zero, before and after growing it from 2 to 5
;; pages; traps (unreachable) on the first byte that is not.
(module
  (memory (export "memory") 2)
  (func $zero
    (local $i i32) (local $end i32)
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i64.ne (i64.load (local.get $i)) (i64.const 0)) (then unreachable))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $l))))
  (func (export "_start")
    (call $zero)
    (if (i32.eq (memory.grow (i32.const 3)) (i32.const -1)) (then unreachable))
    (call $zero)))
