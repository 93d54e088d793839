;; Spins forever through nested loops, br_table, br_if and br to an outer
;; multi-value loop: the deadline must stop it (internal/interrupt).
(module
  (func $spin (result i32)
    (local $i i32)
    (i32.const 7)
    (loop $outer (param i32) (result i32)
      (drop)
      (block $exit
        (loop $inner
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (block $a
            (block $b
              (br_table $a $b $inner $exit (i32.and (local.get $i) (i32.const 3))))
            (br $inner))
          (br_if $inner (i32.and (local.get $i) (i32.const 4)))))
      (i32.const 1)
      (br $outer)))
  (func (export "_start") (drop (call $spin))))
