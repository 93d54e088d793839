;; Already exports the name the interrupt instrumentation reserves: the
;; executor falls back to WithCloseOnContextDone, and still stops it.
(module
  (global (export "__cloudless_stop") (mut i32) (i32.const 0))
  (func (export "_start") (loop $l (br $l))))
