;; Spins forever in a loop whose only back edge is a br_if, in a function
;; that makes no call (so it has no check at its entry, only the loop's):
;; the deadline must stop it.
(module
  (func $spin (param $n i32)
    (loop $l
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.ne (local.get $n) (i32.const 0)))
      (local.set $n (i32.const 1))
      (br_if $l (i32.const 1))))
  (func (export "_start") (call $spin (i32.const 1))))
