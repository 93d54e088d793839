;; Declares 128 MiB but does not export its memory: the pre-check must still
;; see it.
(module
  (memory 2048)
  (func (export "_start")))
