;; Spins forever in a loop whose only back edge is a br_table (no br, no
;; br_if), in a function without calls: the deadline must stop it.
(module
  (func (export "_start")
    (local $i i32)
    (block $out
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_table $l $l $out (i32.const 1))))))
