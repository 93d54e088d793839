;; Exercises the immediates internal/interrupt decodes (SIMD, bulk memory,
;; reference types, sat trunc, sign extension, select t, br_table, f32/f64
;; constants, memarg) and prints a checksum, so the instrumented module can be
;; compared with the original.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 4 funcref)
  (data $d "abcdefgh")
  (elem $e func $one $two)
  (type $ii (func (result i32)))
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (func $sum (result i32)
    (local $acc i32) (local $i i32) (local $v v128) (local $r funcref)
    ;; bulk memory
    (memory.init $d (i32.const 100) (i32.const 0) (i32.const 8))
    (data.drop $d)
    (memory.copy (i32.const 200) (i32.const 100) (i32.const 8))
    (memory.fill (i32.const 300) (i32.const 9) (i32.const 4))
    ;; tables and reference types
    (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 2))
    (elem.drop $e)
    (table.copy $t $t (i32.const 2) (i32.const 0) (i32.const 2))
    (local.set $r (table.get $t (i32.const 1)))
    (table.set $t (i32.const 3) (local.get $r))
    (drop (table.grow $t (ref.null func) (i32.const 1)))
    (drop (ref.func $one))
    (table.fill $t (i32.const 4) (table.get $t (i32.const 0)) (i32.const 1))
    (local.set $acc (i32.add (table.size $t) (ref.is_null (ref.null func))))
    (local.set $acc (i32.add (local.get $acc) (call_indirect (type $ii) (i32.const 3))))
    ;; loops and br_table
    (loop $l
      (block $a (block $b
        (br_table $a $b (i32.and (local.get $i) (i32.const 1))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))
    ;; SIMD
    (local.set $v (v128.const i32x4 1 2 3 4))
    (local.set $v (i32x4.add (local.get $v) (v128.load (i32.const 200))))
    (local.set $v (i8x16.shuffle 3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12 (local.get $v) (local.get $v)))
    (local.set $v (v128.load32_lane 1 (i32.const 300) (local.get $v)))
    (v128.store offset=400 align=4 (i32.const 0) (local.get $v))
    (local.set $acc (i32.add (local.get $acc) (i32x4.extract_lane 0 (local.get $v))))
    (local.set $acc (i32.add (local.get $acc) (i8x16.extract_lane_u 5 (v128.load64_zero (i32.const 100)))))
    ;; numeric, sat trunc, sign extension, select t
    (local.set $acc (i32.add (local.get $acc) (i32.trunc_sat_f32_s (f32.const 1e10))))
    (local.set $acc (i32.add (local.get $acc) (i32.extend8_s (i32.const 0xff))))
    (local.set $acc (i32.add (local.get $acc) (i32.wrap_i64 (i64.trunc_sat_f64_u (f64.const 12.75)))))
    (local.set $acc (select (result i32) (local.get $acc) (i32.const 0) (i32.const 1)))
    (i32.add (local.get $acc) (i32.load8_u offset=3 (i32.const 200))))
  (func (export "_start")
    ;; print acc as 8 hex digits
    (local $x i32) (local $k i32)
    (local.set $x (call $sum))
    (local.set $k (i32.const 0))
    (loop $d
      (i32.store8 (i32.add (i32.const 500) (local.get $k))
        (i32.load8_u offset=600 (i32.and (i32.shr_u (local.get $x) (i32.sub (i32.const 28) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 15))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $d (i32.lt_u (local.get $k) (i32.const 8))))
    (i32.store8 (i32.const 508) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 500))
    (i32.store (i32.const 4) (i32.const 9))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (data (i32.const 600) "0123456789abcdef"))
