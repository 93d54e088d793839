;; echo.wasm: a minimal WASI command that writes its argument vector
;; (argv[0] "module", then each argument, NUL-separated) to stdout: a small
;; function whose output differs per job. Rebuild with:
;; wat2wasm echo.wat -o echo.wasm
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: argc, 4: argv buffer size, 8: iov.base, 12: iov.len, 16: nwritten,
  ;; 64..1023: argv pointers (240 at most), 1024..65535: argument bytes.
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.or (i32.gt_u (i32.load (i32.const 0)) (i32.const 240))
                (i32.gt_u (i32.load (i32.const 4)) (i32.const 64512)))
      (then (return)))
    (drop (call $args_get (i32.const 64) (i32.const 1024)))
    (i32.store (i32.const 8) (i32.const 1024))
    (i32.store (i32.const 12) (i32.load (i32.const 4)))
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))))
