;; NeedsFiles clears it (fd_write only), yet it writes to descriptor 3,
;; where /out would be, on a guess: the write fails with or without a
;; /out, so stdout is the same either way (TestNeedsFilesNoOutSameOutput).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (i32.store (i32.const 8) (i32.const 0))
    (if (i32.eqz (call $w (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 8)))
      (then (i32.store8 (i32.const 16) (i32.const 79)))) ;; "O": the write worked
    (i32.store8 (i32.const 17) (i32.add (i32.const 48) (i32.load (i32.const 8)))) ;; bytes written
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
