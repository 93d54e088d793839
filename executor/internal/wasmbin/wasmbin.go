// Package wasmbin reads the few facts the executor needs from a WebAssembly
// binary before it instantiates it: the imports (to name a missing one) and
// the declared minimum of the linear memory (to refuse a module that could not
// even start under the memory limit).
//
// wazero validates the module first; Parse only walks section headers and
// the import and memory sections, and it never trusts a length without a
// bounds check, so arbitrary bytes return an error, never a panic.
//
// Reader and Sections are the package's bounds-checked decoder of the binary
// format's primitives; internal/interrupt uses them too.
package wasmbin

import (
	"errors"
	"fmt"
)

// ExternKind is the kind of an import, as encoded in the binary.
type ExternKind byte

// Import kinds, from the WebAssembly core spec (binary format, import section).
const (
	KindFunc   ExternKind = 0
	KindTable  ExternKind = 1
	KindMemory ExternKind = 2
	KindGlobal ExternKind = 3
	KindTag    ExternKind = 4
)

func (k ExternKind) String() string {
	switch k {
	case KindFunc:
		return "func"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	case KindTag:
		return "tag"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Import is one entry of the import section.
type Import struct {
	Module, Name string
	Kind         ExternKind
}

// Info is what Parse extracts.
type Info struct {
	Imports []Import
	// HasMemory reports whether the module defines or imports a memory.
	HasMemory bool
	// MinMemoryPages is the declared minimum of memory 0, in 64 KiB pages.
	MinMemoryPages uint64
}

// ErrMalformed is returned (wrapped) when the bytes are not a well-formed module.
var ErrMalformed = errors.New("malformed wasm binary")

const (
	secImport = 2
	secMemory = 5
)

// Parse walks the binary's sections and returns the imports and memory minimum.
func Parse(bin []byte) (*Info, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: no wasm magic", ErrMalformed)
	}
	secs, err := Sections(bin)
	if err != nil {
		return nil, err
	}
	info := &Info{}
	for _, s := range secs {
		r := &Reader{B: s.Payload}
		switch s.ID {
		case secImport:
			if err := parseImports(r, info); err != nil {
				return nil, err
			}
		case secMemory:
			if err := parseMemories(r, info); err != nil {
				return nil, err
			}
		}
	}
	return info, nil
}

func parseImports(r *Reader, info *Info) error {
	n, err := r.U32()
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		mod, err := r.Name()
		if err != nil {
			return err
		}
		name, err := r.Name()
		if err != nil {
			return err
		}
		kind, err := r.Byte()
		if err != nil {
			return err
		}
		imp := Import{Module: mod, Name: name, Kind: ExternKind(kind)}
		switch imp.Kind {
		case KindFunc:
			_, err = r.U32()
		case KindTable:
			if _, err = r.Byte(); err == nil { // reftype
				_, err = r.Limits()
			}
		case KindMemory:
			var min uint64
			if min, err = r.Limits(); err == nil && !info.HasMemory {
				info.HasMemory, info.MinMemoryPages = true, min
			}
		case KindGlobal:
			if _, err = r.Byte(); err == nil { // valtype
				_, err = r.Byte() // mutability
			}
		case KindTag:
			if _, err = r.Byte(); err == nil { // attribute
				_, err = r.U32()
			}
		default:
			return fmt.Errorf("%w: import %s.%s has unknown kind %d", ErrMalformed, mod, name, kind)
		}
		if err != nil {
			return err
		}
		info.Imports = append(info.Imports, imp)
	}
	return nil
}

func parseMemories(r *Reader, info *Info) error {
	n, err := r.U32()
	if err != nil {
		return err
	}
	if n == 0 || info.HasMemory {
		return nil
	}
	min, err := r.Limits()
	if err != nil {
		return err
	}
	info.HasMemory, info.MinMemoryPages = true, min
	return nil
}
