;; Calls environ_sizes_get and environ_get with pointers outside its 64 KiB
;; memory, straddling its end and wrapping around 2^32; each must answer
;; EFAULT (21) and write nothing. Then reads the environment for real and
;; checks it is {"A": "xy", "B": ""}: count 2, size 8, "A=xy\0B=\0".
;; Exits with the number of the first check that failed, 0 when all passed.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $check (param $n i32) (param $ok i32)
    (if (i32.eqz (local.get $ok)) (then (call $exit (local.get $n)))))
  (func (export "_start")
    (call $check (i32.const 1) (i32.eq (call $sizes (i32.const 0xfffffff0) (i32.const 0)) (i32.const 21)))
    (call $check (i32.const 2) (i32.eq (call $sizes (i32.const 0) (i32.const 65534)) (i32.const 21)))
    (call $check (i32.const 3) (i32.eq (call $get (i32.const 65532) (i32.const 100)) (i32.const 21)))
    (call $check (i32.const 4) (i32.eq (call $get (i32.const 100) (i32.const 65530)) (i32.const 21)))
    (call $check (i32.const 5) (i32.eq (call $get (i32.const 100) (i32.const 0xffffffff)) (i32.const 21)))
    (call $check (i32.const 6) (i32.eq (call $get (i32.const 0xfffffffc) (i32.const 100)) (i32.const 21)))
    ;; nothing was written by the refused calls
    (call $check (i32.const 7) (i64.eqz (i64.load (i32.const 100))))
    (call $check (i32.const 8) (i32.eqz (i32.load (i32.const 0))))
    ;; the real thing
    (call $check (i32.const 9) (i32.eqz (call $sizes (i32.const 0) (i32.const 4))))
    (call $check (i32.const 10) (i32.eq (i32.load (i32.const 0)) (i32.const 2)))
    (call $check (i32.const 11) (i32.eq (i32.load (i32.const 4)) (i32.const 8)))
    (call $check (i32.const 12) (i32.eqz (call $get (i32.const 100) (i32.const 200))))
    (call $check (i32.const 13) (i32.eq (i32.load (i32.const 100)) (i32.const 200)))
    (call $check (i32.const 14) (i32.eq (i32.load (i32.const 104)) (i32.const 205)))
    (call $check (i32.const 15) (i64.eq (i64.load (i32.const 200)) (i64.const 0x003d420079783d41)))
    ;; the buffer ends right at the end of memory: allowed
    (call $check (i32.const 16) (i32.eqz (call $get (i32.const 100) (i32.const 65528))))
    (call $check (i32.const 17) (i32.eq (i32.load (i32.const 104)) (i32.const 65533)))
    (call $exit (i32.const 0))))
