;; Loads past the end of a one-page memory.
(module
  (memory 1)
  (func (export "_start") (drop (i32.load (i32.const 70000)))))
