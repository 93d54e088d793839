;; Prints 10 MiB of headers (10240 lines of 1024 bytes) before the blank
;; line: over the gateway's header cap, 502.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32)
    ;; line at 1024: "X-Pad: " then 'a' up to byte 1022, then '\n'
    (i32.store (i32.const 1024) (i32.const 0x61502d58)) ;; "X-Pa"
    (i32.store (i32.const 1028) (i32.const 0x00203a64)) ;; "d: " (4th byte overwritten)
    (memory.fill (i32.const 1031) (i32.const 0x61) (i32.const 1016))
    (i32.store8 (i32.const 2047) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 1024))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.const 10240)))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    ;; then the blank line and a body
    (i32.store8 (i32.const 2048) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 2048))
    (i32.store (i32.const 4) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))
