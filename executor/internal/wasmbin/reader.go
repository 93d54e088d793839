package wasmbin

import "fmt"

// Reader reads the binary format's primitives (bytes, LEB128 integers,
// names, limits) from B starting at Off. Every read is bounds-checked and
// returns an error wrapping ErrMalformed instead of reading past the end;
// on error Off is left somewhere inside B. It is shared by Parse and by the
// instrumenter (internal/interrupt), so both agree on what a well-formed
// integer or name is.
type Reader struct {
	B   []byte
	Off int
}

// Len returns the number of bytes left.
func (r *Reader) Len() int { return len(r.B) - r.Off }

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.Off >= len(r.B) {
		return 0, fmt.Errorf("%w: unexpected end at offset %d", ErrMalformed, r.Off)
	}
	c := r.B[r.Off]
	r.Off++
	return c, nil
}

// Bytes returns the next n bytes (capacity limited to n, so appending to
// the result never overwrites B).
func (r *Reader) Bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.B)-r.Off {
		return nil, fmt.Errorf("%w: %d bytes at offset %d overrun the end", ErrMalformed, n, r.Off)
	}
	b := r.B[r.Off : r.Off+n : r.Off+n]
	r.Off += n
	return b, nil
}

// ULEB reads an unsigned LEB128 of at most maxBits (≤ 64) bits: longer
// encodings and values that do not fit are malformed.
func (r *Reader) ULEB(maxBits uint) (uint64, error) {
	// Fast path: one byte.
	if r.Off < len(r.B) && r.B[r.Off] < 0x80 {
		v := uint64(r.B[r.Off])
		if maxBits < 7 && v>>maxBits != 0 {
			return 0, fmt.Errorf("%w: LEB128 overflows %d bits", ErrMalformed, maxBits)
		}
		r.Off++
		return v, nil
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= maxBits || shift >= 70 { // at most ceil(maxBits/7) bytes
			return 0, fmt.Errorf("%w: LEB128 too long at offset %d", ErrMalformed, r.Off)
		}
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		if shift == 63 && c&0x7e != 0 {
			return 0, fmt.Errorf("%w: LEB128 overflows 64 bits", ErrMalformed)
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

// SLEB reads a signed LEB128 of at most maxBits bits (at most
// ceil(maxBits/7) bytes) and returns it sign-extended. Like the
// instrumenter needs it, it checks the length, not the unused high bits
// of the last byte (wazero validates those).
func (r *Reader) SLEB(maxBits uint) (int64, error) {
	var v int64
	shift := uint(0)
	for {
		if shift >= maxBits || shift >= 70 { // at most ceil(maxBits/7) bytes
			return 0, fmt.Errorf("%w: LEB128 too long at offset %d", ErrMalformed, r.Off)
		}
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, nil
		}
	}
}

// U32 reads an unsigned 32-bit LEB128 (counts, sizes, indices).
func (r *Reader) U32() (uint32, error) {
	v, err := r.ULEB(32)
	return uint32(v), err
}

// Name reads a length-prefixed name (not checked for valid UTF-8).
func (r *Reader) Name() (string, error) {
	n, err := r.U32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(r.B)-r.Off) {
		return "", fmt.Errorf("%w: name of %d bytes overruns the section", ErrMalformed, n)
	}
	s := string(r.B[r.Off : r.Off+int(n)])
	r.Off += int(n)
	return s, nil
}

// Limits reads a limits record (flags, min, optional max) and returns min.
// Flags: bit 0 = has max, bit 1 = shared, bit 2 = 64-bit indices; other
// flags are malformed.
func (r *Reader) Limits() (uint64, error) {
	flags, err := r.Byte()
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
	min, err := r.ULEB(bits)
	if err != nil {
		return 0, err
	}
	if flags&1 != 0 {
		if _, err := r.ULEB(bits); err != nil {
			return 0, err
		}
	}
	return min, nil
}

// Section is one section of a module as Sections finds it.
type Section struct {
	ID byte
	// Start is the offset of the id byte, End the offset after the payload.
	Start, End int
	Payload    []byte
}

// Sections splits a module into its sections (after the 8-byte header,
// which the caller checks). It checks only that every section fits.
func Sections(bin []byte) ([]Section, error) {
	if len(bin) < 8 {
		return nil, fmt.Errorf("%w: no header", ErrMalformed)
	}
	var secs []Section
	r := &Reader{B: bin, Off: 8}
	for r.Off < len(r.B) {
		start := r.Off
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		size, err := r.U32()
		if err != nil {
			return nil, err
		}
		if uint64(size) > uint64(r.Len()) {
			return nil, fmt.Errorf("%w: section %d of %d bytes overruns the module", ErrMalformed, id, size)
		}
		payload, _ := r.Bytes(int(size))
		secs = append(secs, Section{ID: id, Start: start, End: r.Off, Payload: payload})
	}
	return secs, nil
}
