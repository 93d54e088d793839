;; NeedsFiles: stdio, args and exit only
(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (import "wasi_snapshot_preview1" "args_get" (func (param i32 i32) (result i32))) (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (memory (export "memory") 1) (func (export "_start")))
