;; Writes one byte to stdout (so a test knows it is running), then spins.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "x")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16)) ;; iovec.buf
    (i32.store (i32.const 4) (i32.const 1))  ;; iovec.len
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (loop $l (br $l))))
