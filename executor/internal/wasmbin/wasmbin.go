// Package wasmbin reads the few facts the executor needs from a WebAssembly
// binary before it instantiates it: the imports (to name a missing one) and
// the declared minimum of the linear memory (to refuse a module that could not
// even start under the memory limit).
//
// wazero validates the module first; this reader only walks section headers
// and the import and memory sections, and it never trusts a length without a
// bounds check, so arbitrary bytes return an error, never a panic.
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
	r := &reader{b: bin, off: 8}
	info := &Info{}
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(r.b)-r.off) {
			return nil, fmt.Errorf("%w: section %d of %d bytes overruns the module", ErrMalformed, id, size)
		}
		sec := &reader{b: r.b[:r.off+int(size)], off: r.off}
		switch id {
		case secImport:
			if err := parseImports(sec, info); err != nil {
				return nil, err
			}
		case secMemory:
			if err := parseMemories(sec, info); err != nil {
				return nil, err
			}
		}
		r.off += int(size)
	}
	return info, nil
}

func parseImports(r *reader, info *Info) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		mod, err := r.name()
		if err != nil {
			return err
		}
		name, err := r.name()
		if err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		imp := Import{Module: mod, Name: name, Kind: ExternKind(kind)}
		switch imp.Kind {
		case KindFunc:
			_, err = r.u32()
		case KindTable:
			if _, err = r.byte(); err == nil { // reftype
				_, err = r.limits()
			}
		case KindMemory:
			var min uint64
			if min, err = r.limits(); err == nil && !info.HasMemory {
				info.HasMemory, info.MinMemoryPages = true, min
			}
		case KindGlobal:
			if _, err = r.byte(); err == nil { // valtype
				_, err = r.byte() // mutability
			}
		case KindTag:
			if _, err = r.byte(); err == nil { // attribute
				_, err = r.u32()
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

func parseMemories(r *reader, info *Info) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	if n == 0 || info.HasMemory {
		return nil
	}
	min, err := r.limits()
	if err != nil {
		return err
	}
	info.HasMemory, info.MinMemoryPages = true, min
	return nil
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("%w: unexpected end at offset %d", ErrMalformed, r.off)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// uleb reads an unsigned LEB128 of at most maxBits bits.
func (r *reader) uleb(maxBits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= maxBits+7 {
			return 0, fmt.Errorf("%w: LEB128 too long at offset %d", ErrMalformed, r.off)
		}
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			break
		}
	}
	if maxBits < 64 && v>>maxBits != 0 {
		return 0, fmt.Errorf("%w: LEB128 overflows %d bits", ErrMalformed, maxBits)
	}
	return v, nil
}

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return "", fmt.Errorf("%w: name of %d bytes overruns the section", ErrMalformed, n)
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s, nil
}

// limits reads a limits record (flags, min, optional max) and returns min.
// Flags: bit 0 = has max, bit 1 = shared, bit 2 = 64-bit indices.
func (r *reader) limits() (uint64, error) {
	flags, err := r.byte()
	if err != nil {
		return 0, err
	}
	if flags > 7 {
		return 0, fmt.Errorf("%w: bad limits flags 0x%x", ErrMalformed, flags)
	}
	bits := uint(32)
	if flags&4 != 0 {
		bits = 64
	}
	min, err := r.uleb(bits)
	if err != nil {
		return 0, err
	}
	if flags&1 != 0 {
		if _, err := r.uleb(bits); err != nil {
			return 0, err
		}
	}
	return min, nil
}
