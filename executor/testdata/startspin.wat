;; Spins in its start section, which wazero would run inside instantiation:
;; the deadline must stop it too. It has a global of its own (the stop
;; globals come after it), no memory (Instrument adds one) and a name section.
(module
  (global $g (mut i32) (i32.const 0))
  (func $spin (loop $l (global.set $g (i32.add (global.get $g) (i32.const 1))) (br $l)))
  (start $spin)
  (func (export "_start")))
