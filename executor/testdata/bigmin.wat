;; Declares a minimum of 128 MiB (2048 pages): refused before it runs under
;; a 64 MiB limit.
(module
  (memory (export "memory") 2048)
  (func (export "_start")))
