;; Writes "flood!!\n" to stdout forever: the output limit stops it.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: {buf = 16, len = 8}; the text at 16.
  (data (i32.const 0) "\10\00\00\00\08\00\00\00")
  (data (i32.const 16) "flood!!\n")
  (func (export "_start")
    (loop $l
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
      (br $l))))
