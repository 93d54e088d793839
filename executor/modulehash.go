package executor

import (
	"bytes"
	"crypto/sha256"
	"fmt"
)

// HashModule returns the Hash of module: what Compile returns and what
// Spec.ModuleHash must be. A caller that runs the same bytes many times
// (the trigger's local invoker) computes it once when it loads them.
func HashModule(module []byte) Hash { return sha256.Sum256(module) }

// moduleHash returns the key of spec.Module in the compile table.
//
// Without Spec.ModuleHash it is sha256 of the bytes. With it, the claimed
// hash is trusted only when the bytes are proved to be the ones compiled
// under it: either equal, byte for byte, to the private copy the entry
// kept the first time (a memcmp, ≈ 40× cheaper than sha256), or hashed
// here and found equal. A claim that does not match the bytes is a
// *HostError, so a wrong hash can never run another module than the bytes
// given (docs/rationale/executor.md, "Why does a caller-supplied module
// hash cost a memcmp, not nothing?").
func (e *Executor) moduleHash(spec *Spec) (h Hash, keep []byte, err error) {
	if spec.ModuleHash == (Hash{}) {
		return HashModule(spec.Module), nil, nil
	}
	e.mu.Lock()
	var src []byte
	if en := e.modules[spec.ModuleHash]; en != nil {
		src = en.src
	}
	e.mu.Unlock()
	if src != nil && bytes.Equal(src, spec.Module) {
		return spec.ModuleHash, nil, nil
	}
	// Hash a private copy, so what is kept (and compiled, if this run
	// compiles) is exactly what was hashed, whatever the caller does with
	// its slice afterwards.
	keep = bytes.Clone(spec.Module)
	if h = HashModule(keep); h != spec.ModuleHash {
		return h, nil, &HostError{Op: "module hash", Err: fmt.Errorf(
			"Spec.ModuleHash %.12s… is not the module's hash %.12s…", spec.ModuleHash, h)}
	}
	return h, keep, nil
}

// keepSource gives en src, a private copy of the bytes compiled under its
// hash, so later runs that name the hash (Spec.ModuleHash) prove their
// bytes with a comparison instead of sha256. Only entries asked for by
// hash keep one: it costs the module's size in memory for as long as the
// entry is in the table (WithMaxCompiled bounds the entries).
func (e *Executor) keepSource(en *entry, src []byte) {
	e.mu.Lock()
	if en.src == nil {
		en.src = src
	}
	e.mu.Unlock()
}
