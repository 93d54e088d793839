;; Exponential recursion without a loop and without a direct call: $a
;; calls $b through call_indirect, $b calls $a twice through the table.
;; The deadline must stop it through the checks at function entry.
(module
  (type $t (func (param i64) (result i64)))
  (table 2 funcref)
  (elem (i32.const 0) $a $b)
  (func $a (type $t) (param $n i64) (result i64)
    (call_indirect (type $t) (local.get $n) (i32.const 1)))
  (func $b (type $t) (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add
        (call_indirect (type $t) (i64.sub (local.get $n) (i64.const 1)) (i32.const 0))
        (call_indirect (type $t) (i64.sub (local.get $n) (i64.const 2)) (i32.const 0))))))
  (func (export "_start") (drop (call $a (i64.const 90)))))
