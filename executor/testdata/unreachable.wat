;; Executes `unreachable`.
(module
  (func (export "_start") unreachable))
