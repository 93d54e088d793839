;; NeedsFiles: fd_readdir lists a directory
(module (import "wasi_snapshot_preview1" "fd_readdir" (func (param i32 i32 i32 i64 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))
