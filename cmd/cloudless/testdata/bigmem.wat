;; Declares a minimum of 2048 pages (128 MiB) of memory: refused before it
;; runs under a smaller memory limit.
(module
  (memory (export "memory") 2048)
  (func (export "_start")))
