// Package interrupt makes a WebAssembly module stoppable from the host
// without wazero's WithCloseOnContextDone, whose check exits to Go at every
// loop iteration (≈ 80 ns each in wazero v1.12).
//
// Instrument rewrites the binary: it appends two mutable i32 globals, $stop
// (initially 0, exported as StopExport) and $fuel (initially FuelPeriod),
// and inserts this check at the start of every function body and right
// after every `loop` instruction:
//
//	global.get $fuel  i32.const 1  i32.sub  global.set $fuel
//	global.get $fuel  i32.eqz
//	if
//	  global.get $stop  if unreachable end
//	  i32.const 0  memory.grow  drop        ;; exits to Go: a preemption point
//	  i32.const FuelPeriod  global.set $fuel
//	end
//
// The host stops a running instance by setting $stop to 1: the guest traps
// with "unreachable" within FuelPeriod loop iterations or calls. The common
// path is a decrement and a predicted branch in native code, not a call into
// Go. Every FuelPeriod checks the guest does exit to Go (wazero implements
// memory.grow in Go; growing by 0 pages changes nothing), because wazero's
// native code cannot be preempted by the Go scheduler: without that exit a
// spinning guest would hold its P, and with every P held no timer — not even
// the one that sets $stop — could run. A module without a memory gets an
// empty one (0 pages) for that purpose.
//
// A complete if..end block leaves every existing branch depth unchanged, and
// the new globals (and memory) get the next free indices, so no existing
// index moves. An (invalid) module whose code or exports name a global or a
// memory it does not have is refused: instrumenting must not make it valid
// with access to $fuel or $stop.
//
// A start section would run inside instantiation, before the host holds the
// global; Instrument removes it and exports its function as StartExport
// instead, for the host to call right after instantiation (which is what the
// start section means: after the segments are initialised).
//
// Everything else is kept byte-identical. Instrument decodes every MVP
// instruction plus sign extension, saturating truncation, bulk memory,
// reference types, multi-value block types, tail calls and fixed-width SIMD;
// anything else (threads/atomics 0xFE, exceptions, GC, multi-memory, unknown
// sections) returns an error wrapping ErrUnsupported so the caller can fall
// back. Arbitrary bytes return an error, never a panic. Instrument does not
// validate the module: the caller compiles the result with wazero, which
// does.
package interrupt

import (
	"errors"
	"fmt"
)

// Names the instrumented module exports. A module that already exports one
// of them is refused (ErrReserved).
const (
	StopExport  = "__cloudless_stop"
	StartExport = "__cloudless_start"
)

// Version changes whenever Instrument's output for the same input changes.
const Version = 2

// FuelPeriod is the number of checks (loop iterations and calls) between two
// exits to Go, where the guest also reads the stop flag. At a few ns per
// iteration that is well under a millisecond; the exit costs ≈ 0.1 µs.
const FuelPeriod = 1 << 14

var (
	// ErrMalformed is returned (wrapped) for bytes that are not a
	// well-formed module as far as Instrument reads it.
	ErrMalformed = errors.New("malformed wasm binary")
	// ErrUnsupported is returned (wrapped) for a feature Instrument does not
	// decode (an unknown opcode or section).
	ErrUnsupported = errors.New("unsupported wasm feature")
	// ErrReserved is returned when the module already exports StopExport or
	// StartExport.
	ErrReserved = errors.New("module exports a reserved name")
)

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// rank is the position a non-custom section must have in the binary.
var rank = map[byte]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6,
	secGlobal: 7, secExport: 8, secStart: 9, secElement: 10, secDataCount: 11, secCode: 12, secData: 13,
}

type section struct {
	id      byte
	start   int // offset of the id byte
	end     int // offset after the payload
	payload []byte
}

// Instrument returns a copy of wasm with the stop checks inserted (see the
// package documentation).
func Instrument(wasm []byte) (_ []byte, err error) {
	defer func() {
		// Belt and braces: every read is bounds-checked, but a bug must not
		// take the host down with it.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: internal error: %v", ErrMalformed, r)
		}
	}()
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: no wasm magic", ErrMalformed)
	}
	if string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: binary version %x", ErrUnsupported, wasm[4:8])
	}
	var secs []section
	r := &reader{b: wasm, off: 8}
	last := 0
	for r.off < len(r.b) {
		start := r.off
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		payload, err := r.bytes(int(size))
		if err != nil {
			return nil, err
		}
		if id != secCustom {
			rk, ok := rank[id]
			if !ok {
				return nil, fmt.Errorf("%w: section id %d", ErrUnsupported, id)
			}
			if rk <= last {
				return nil, fmt.Errorf("%w: section %d out of order or repeated", ErrMalformed, id)
			}
			last = rk
		}
		secs = append(secs, section{id: id, start: start, end: r.off, payload: payload})
	}

	// First pass: count globals, read exports and the start function.
	var importedGlobals, definedGlobals uint32
	hasMemory, exportsMemory, hasData := false, false, false
	startFunc, hasStart := uint32(0), false
	for _, s := range secs {
		sr := &reader{b: s.payload}
		switch s.id {
		case secImport:
			var mems uint32
			if importedGlobals, mems, err = countImports(sr); err != nil {
				return nil, err
			}
			hasMemory = hasMemory || mems > 0
		case secMemory:
			n, err := sr.u32()
			if err != nil {
				return nil, err
			}
			hasMemory = hasMemory || n > 0
		case secGlobal:
			if definedGlobals, err = sr.u32(); err != nil {
				return nil, err
			}
		case secExport:
			if exportsMemory, err = checkExports(sr, uint32(importedGlobals)+definedGlobals); err != nil {
				return nil, err
			}
		case secStart:
			if startFunc, err = sr.u32(); err != nil {
				return nil, err
			}
			hasStart = true
		case secData, secDataCount:
			hasData = true
		}
	}
	if !hasMemory && (exportsMemory || hasData) {
		// Only valid with the memory Instrument would add.
		return nil, errTouchesAdded
	}
	stopIdx := uint64(importedGlobals) + uint64(definedGlobals)
	if stopIdx >= 1<<32-2 {
		return nil, fmt.Errorf("%w: too many globals", ErrMalformed)
	}
	check := appendCheck(nil, uint32(stopIdx), uint32(stopIdx)+1)
	// mut i32 (i32.const 0), mut i32 (i32.const FuelPeriod)
	stopGlobal := appendS32([]byte{0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01, 0x41}, FuelPeriod)
	stopGlobal = append(stopGlobal, 0x0b)
	stopExport := appendExport(nil, StopExport, 3, uint32(stopIdx))
	var startExport []byte
	if hasStart {
		startExport = appendExport(nil, StartExport, 0, startFunc)
	}

	out := make([]byte, 0, len(wasm)+len(wasm)/16+64)
	out = append(out, wasm[:8]...)
	needMemory, needGlobal, needExport := !hasMemory, true, true
	// flush emits the missing memory, global and export sections before a
	// section that must follow them.
	flush := func(before int) {
		if needMemory && before > rank[secMemory] {
			out = appendSection(out, secMemory, []byte{1, 0, 0}) // one memory, min 0, no max
			needMemory = false
		}
		if needGlobal && before > rank[secGlobal] {
			out = appendSection(out, secGlobal, appendVecOf(nil, 2, stopGlobal))
			needGlobal = false
		}
		if needExport && before > rank[secExport] {
			n := uint32(1)
			body := stopExport
			if hasStart {
				n, body = 2, append(append([]byte(nil), stopExport...), startExport...)
			}
			out = appendSection(out, secExport, appendVecOf(nil, n, body))
			needExport = false
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			flush(rank[s.id])
		}
		sr := &reader{b: s.payload}
		switch s.id {
		case secMemory:
			if needMemory { // an empty memory section
				out = appendSection(out, secMemory, []byte{1, 0, 0})
				needMemory = false
			} else {
				out = append(out, wasm[s.start:s.end]...)
			}
		case secGlobal:
			n, _ := sr.u32()
			body := append(append([]byte(nil), sr.b[sr.off:]...), stopGlobal...)
			out = appendSection(out, secGlobal, appendVecOf(nil, n+2, body))
			needGlobal = false
		case secExport:
			n, _ := sr.u32()
			body := append(append([]byte(nil), sr.b[sr.off:]...), stopExport...)
			n++
			if hasStart {
				body = append(body, startExport...)
				n++
			}
			out = appendSection(out, secExport, appendVecOf(nil, n, body))
			needExport = false
		case secStart:
			// dropped: exported as StartExport instead
		case secCode:
			body, err := instrumentCode(sr, check, uint32(stopIdx), !hasMemory)
			if err != nil {
				return nil, err
			}
			out = appendSection(out, secCode, body)
		default:
			out = append(out, wasm[s.start:s.end]...)
		}
	}
	flush(rank[secData] + 1)
	return out, nil
}

// countImports returns the number of imported globals and memories.
func countImports(r *reader) (globals, mems uint32, err error) {
	n, err := r.u32()
	if err != nil {
		return 0, 0, err
	}
	for i := uint32(0); i < n; i++ {
		for range 2 { // module, name
			if _, err := r.name(); err != nil {
				return 0, 0, err
			}
		}
		kind, err := r.byte()
		if err != nil {
			return 0, 0, err
		}
		switch kind {
		case 0: // func: typeidx
			_, err = r.u32()
		case 1: // table: reftype limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 2: // memory: limits
			mems++
			err = r.limits()
		case 3: // global: valtype mut
			globals++
			if _, err = r.byte(); err == nil {
				_, err = r.byte()
			}
		case 4: // tag: attribute typeidx
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return 0, 0, fmt.Errorf("%w: import kind %d", ErrUnsupported, kind)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return globals, mems, nil
}

// checkExports refuses the reserved names and exports of globals the module
// does not have, and reports whether it exports a memory.
func checkExports(r *reader, globals uint32) (memory bool, err error) {
	n, err := r.u32()
	if err != nil {
		return false, err
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.name()
		if err != nil {
			return false, err
		}
		if name == StopExport || name == StartExport {
			return false, fmt.Errorf("%w: %q", ErrReserved, name)
		}
		kind, err := r.byte()
		if err != nil {
			return false, err
		}
		idx, err := r.u32()
		if err != nil {
			return false, err
		}
		switch {
		case kind == 2:
			memory = true
		case kind == 3 && idx >= globals:
			return false, errTouchesAdded
		}
	}
	return memory, nil
}

// instrumentCode rewrites the code section payload in r.
func instrumentCode(r *reader, check []byte, globals uint32, noMemory bool) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(r.b)+len(r.b)/16+16)
	out = appendU32(out, n)
	var body []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		code, err := r.bytes(int(size))
		if err != nil {
			return nil, err
		}
		body, err = instrumentBody(body[:0], code, check, globals, noMemory)
		if err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if r.off != len(r.b) {
		return nil, fmt.Errorf("%w: %d bytes after the code section's bodies", ErrMalformed, len(r.b)-r.off)
	}
	return out, nil
}

// instrumentBody appends the instrumented function body code to out.
func instrumentBody(out, code, check []byte, globals uint32, noMemory bool) ([]byte, error) {
	r := &reader{b: code, globals: globals, noMemory: noMemory}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	for i := uint32(0); i < groups; i++ {
		if _, err := r.u32(); err != nil { // count
			return nil, err
		}
		if err := r.valtype(); err != nil {
			return nil, err
		}
	}
	out = append(out, code[:r.off]...)
	out = append(out, check...)
	depth := 0 // open blocks beyond the function's own
	for r.off < len(r.b) {
		start := r.off
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		isLoop := false
		switch {
		case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b ||
			op == 0xd1 || (op >= 0x45 && op <= 0xc4):
			// no immediate
		case op == 0x02 || op == 0x03 || op == 0x04: // block loop if
			err = r.blockType()
			depth++
			isLoop = op == 0x03
		case op == 0x0b: // end
			depth--
			if depth < -1 {
				return nil, fmt.Errorf("%w: unbalanced end", ErrMalformed)
			}
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || // br br_if call return_call
			(op >= 0x20 && op <= 0x22) || op == 0x25 || op == 0x26 || op == 0xd2: // locals, table.get/set, ref.func
			_, err = r.u32()
		case op == 0x23 || op == 0x24: // global.get global.set
			var idx uint32
			if idx, err = r.u32(); err == nil && idx >= r.globals {
				err = errTouchesAdded
			}
		case op == 0x11 || op == 0x13: // call_indirect return_call_indirect: type table
			if _, err = r.u32(); err == nil {
				_, err = r.u32()
			}
		case op == 0x0e: // br_table
			var k uint32
			if k, err = r.u32(); err == nil {
				for j := uint64(0); j <= uint64(k) && err == nil; j++ {
					_, err = r.u32()
				}
			}
		case op == 0x1c: // select t*
			var k uint32
			if k, err = r.u32(); err == nil {
				for j := uint32(0); j < k && err == nil; j++ {
					err = r.valtype()
				}
			}
		case op >= 0x28 && op <= 0x3e: // loads and stores
			err = r.memarg()
		case op == 0x3f || op == 0x40: // memory.size memory.grow
			err = r.memIndex()
		case op == 0x41:
			_, err = r.sleb(32)
		case op == 0x42:
			_, err = r.sleb(64)
		case op == 0x43:
			_, err = r.bytes(4)
		case op == 0x44:
			_, err = r.bytes(8)
		case op == 0xd0: // ref.null t
			var t byte
			if t, err = r.byte(); err == nil && t != 0x70 && t != 0x6f {
				err = fmt.Errorf("%w: ref.null heap type 0x%x", ErrUnsupported, t)
			}
		case op == 0xfc:
			err = r.prefixFC()
		case op == 0xfd:
			err = r.prefixFD()
		default:
			err = fmt.Errorf("%w: opcode 0x%02x at offset %d", ErrUnsupported, op, start)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, code[start:r.off]...)
		if isLoop {
			out = append(out, check...)
		}
	}
	if depth != -1 || len(code) == 0 || code[len(code)-1] != 0x0b {
		return nil, fmt.Errorf("%w: function body does not end with end", ErrMalformed)
	}
	return out, nil
}

// appendCheck appends the check of the package documentation.
func appendCheck(b []byte, stop, fuel uint32) []byte {
	getFuel := appendU32([]byte{0x23}, fuel)
	setFuel := appendU32([]byte{0x24}, fuel)
	b = append(b, getFuel...)
	b = append(b, 0x41, 0x01, 0x6b) // i32.const 1 i32.sub
	b = append(b, setFuel...)
	b = append(b, getFuel...)
	b = append(b, 0x45, 0x04, 0x40) // i32.eqz if
	b = append(b, 0x23)
	b = appendU32(b, stop)
	b = append(b, 0x04, 0x40, 0x00, 0x0b)       // if unreachable end
	b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0 memory.grow drop
	b = append(b, 0x41)
	b = appendS32(b, FuelPeriod)
	b = append(b, setFuel...)
	return append(b, 0x0b) // end
}

// appendS32 appends v as a signed LEB128.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendExport(b []byte, name string, kind byte, idx uint32) []byte {
	b = appendU32(b, uint32(len(name)))
	b = append(b, name...)
	b = append(b, kind)
	return appendU32(b, idx)
}

func appendVecOf(b []byte, n uint32, body []byte) []byte {
	b = appendU32(b, n)
	return append(b, body...)
}

func appendSection(b []byte, id byte, payload []byte) []byte {
	b = append(b, id)
	b = appendU32(b, uint32(len(payload)))
	return append(b, payload...)
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// simdKnown marks the 0xFD sub-opcodes of fixed-width SIMD, as wazero v1.12
// knows them (0x00–0xFF minus the gaps; relaxed SIMD is not supported).
var simdKnown = func() (t [256]bool) {
	for i := range t {
		t[i] = true
	}
	for _, gap := range []int{0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5,
		0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee} {
		t[gap] = false
	}
	return t
}()

func (r *reader) prefixFC() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncation
		return nil
	case sub == 8: // memory.init data mem
		if _, err := r.u32(); err != nil {
			return err
		}
		return r.memIndex()
	case sub == 9 || sub == 13 || sub == 15 || sub == 16 || sub == 17: // data.drop elem.drop table.grow/size/fill
		_, err := r.u32()
		return err
	case sub == 10: // memory.copy dst src
		if err := r.memIndex(); err != nil {
			return err
		}
		return r.memIndex()
	case sub == 11: // memory.fill
		return r.memIndex()
	case sub == 12 || sub == 14: // table.init elem table, table.copy dst src
		if _, err := r.u32(); err != nil {
			return err
		}
		_, err := r.u32()
		return err
	}
	return fmt.Errorf("%w: opcode 0xfc %d", ErrUnsupported, sub)
}

func (r *reader) prefixFD() error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	if sub > 0xff || !simdKnown[sub] {
		return fmt.Errorf("%w: opcode 0xfd %d", ErrUnsupported, sub)
	}
	switch {
	case sub <= 0x0b || sub == 0x5c || sub == 0x5d: // loads, store, load_zero
		return r.memarg()
	case sub >= 0x54 && sub <= 0x5b: // load/store lane
		if err := r.memarg(); err != nil {
			return err
		}
		_, err := r.byte()
		return err
	case sub == 0x0c || sub == 0x0d: // v128.const, i8x16.shuffle
		_, err := r.bytes(16)
		return err
	case sub >= 0x15 && sub <= 0x22: // extract/replace lane
		_, err := r.byte()
		return err
	}
	return nil
}

type reader struct {
	b   []byte
	off int
	// For function bodies: the module's own number of globals (a higher
	// index would name the ones Instrument adds) and whether it has no
	// memory of its own (Instrument adds one, which the code must not use).
	globals  uint32
	noMemory bool
}

// errTouchesAdded refuses code that would only be valid because of what
// Instrument adds: an invalid module must not become a valid one that can
// reset its own fuel or clear the stop flag.
var errTouchesAdded = fmt.Errorf("%w: code refers to a global or memory the module does not have", ErrMalformed)

func (r *reader) useMemory() error {
	if r.noMemory {
		return errTouchesAdded
	}
	return nil
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("%w: unexpected end at offset %d", ErrMalformed, r.off)
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, fmt.Errorf("%w: %d bytes at offset %d overrun the end", ErrMalformed, n, r.off)
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return b, nil
}

// uleb reads an unsigned LEB128 of at most maxBits bits.
func (r *reader) uleb(maxBits uint) (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= maxBits+7 || shift >= 64 {
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

// sleb skips a signed LEB128 of at most maxBits bits and returns its value
// (sign-extended, for block types).
func (r *reader) sleb(maxBits uint) (int64, error) {
	var v int64
	shift := uint(0)
	for {
		if shift >= maxBits+7 || shift >= 70 {
			return 0, fmt.Errorf("%w: LEB128 too long at offset %d", ErrMalformed, r.off)
		}
		c, err := r.byte()
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

func (r *reader) u32() (uint32, error) {
	v, err := r.uleb(32)
	return uint32(v), err
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n))
	return string(b), err
}

// limits skips a limits record (flags, min, optional max).
func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags > 7 {
		return fmt.Errorf("%w: limits flags 0x%x", ErrUnsupported, flags)
	}
	bits := uint(32)
	if flags&4 != 0 {
		bits = 64
	}
	if _, err := r.uleb(bits); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.uleb(bits)
	}
	return err
}

func isValType(t byte) bool {
	switch t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return true
	}
	return false
}

func (r *reader) valtype() error {
	t, err := r.byte()
	if err != nil {
		return err
	}
	if !isValType(t) {
		return fmt.Errorf("%w: value type 0x%x", ErrUnsupported, t)
	}
	return nil
}

// blockType skips a block type: empty, a value type or a type index (s33).
func (r *reader) blockType() error {
	if r.off >= len(r.b) {
		return fmt.Errorf("%w: unexpected end at offset %d", ErrMalformed, r.off)
	}
	if t := r.b[r.off]; t == 0x40 || isValType(t) {
		r.off++
		return nil
	}
	v, err := r.sleb(33)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("%w: block type %d", ErrUnsupported, v)
	}
	return nil
}

// memarg skips align and offset; an align with bit 6 (multi-memory) is
// refused.
func (r *reader) memarg() error {
	if err := r.useMemory(); err != nil {
		return err
	}
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align >= 64 {
		return fmt.Errorf("%w: memarg with memory index", ErrUnsupported)
	}
	_, err = r.uleb(64)
	return err
}

// memIndex reads a memory index, which must be 0 (no multi-memory).
func (r *reader) memIndex() error {
	if err := r.useMemory(); err != nil {
		return err
	}
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c != 0 {
		return fmt.Errorf("%w: memory index %d", ErrUnsupported, c)
	}
	return nil
}
