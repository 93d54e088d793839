;; NeedsFiles: fd_prestat_get finds /out
(module (import "wasi_snapshot_preview1" "fd_prestat_get" (func (param i32 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))
