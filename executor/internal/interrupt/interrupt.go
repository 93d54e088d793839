// Package interrupt makes a WebAssembly module stoppable from the host
// without wazero's WithCloseOnContextDone, whose check exits to Go at every
// loop iteration (≈ 80 ns each in wazero v1.12).
//
// Instrument rewrites the binary: it appends two mutable i32 globals, $stop
// (initially 0, exported as StopExport) and $fuel (initially FuelPeriod),
// and a function $refill (with a new type () -> ()), and inserts this check
// (appendCheck):
//
//	global.get $fuel  i32.const 1  i32.sub  global.set $fuel
//	global.get $fuel  i32.eqz
//	if  call $refill  end
//
// where $refill is (appendRefill):
//
//	global.get $stop  if unreachable end
//	i32.const 0  memory.grow  drop        ;; exits to Go: a preemption point
//	i32.const FuelPeriod  global.set $fuel
//
// The host stops a running instance by setting $stop to 1: the guest traps
// with "unreachable" within FuelPeriod checks. The common path is a
// decrement and a predicted branch in native code, not a call into Go. One
// shared $refill keeps the rarely run part out of line: inline, wazero's
// code for the trap and the memory.grow call added ≈ 340 bytes of machine
// code per check.
//
// Every FuelPeriod checks the guest does exit to Go (wazero implements
// memory.grow in Go; growing by 0 pages changes nothing), because wazero's
// native code cannot be preempted by the Go scheduler: without that exit a
// spinning guest would hold its P, and with every P held no timer — not even
// the one that sets $stop — could run. A module without a memory gets an
// empty one (0 pages) for that purpose.
//
// # Where the checks go
//
// A guest can only run for long by going around a cycle of its control
// flow: a loop's back edge (every br, br_if or br_table to a loop's label
// jumps to the loop's start) or a call cycle (recursion, direct, through
// call_indirect or through tail calls). Instrument puts the check right
// after every `loop` instruction, which every back edge reaches, and at the
// entry of every function that contains a call instruction, which every
// call cycle passes (each function on a call cycle calls the next one). A
// function with neither loops nor calls runs each of its instructions at
// most once per call (its branches go forward) and gets no check at all;
// neither does the entry of a function that has loops but makes no call.
// So between two checks a guest runs a bounded stretch of code, and it
// exits to Go and reads $stop at least once every FuelPeriod loop
// iterations and calls into calling functions, whatever the loop shape.
//
// Turned down after measuring (docs/rationale/executor.md): caching $fuel
// in a local in functions without calls (one more loop-carried value: the
// register pressure cost more than the global's load and store saved), and
// moving the exit to Go out of the loop into a wrapping block (the loop's
// values are still live across the call).
//
// A complete if..end block leaves every existing branch depth unchanged,
// and the new globals, type and function (and memory) get the next free
// indices, so no existing index moves. An (invalid) module whose code,
// exports or start section name a global, a memory or a function it does
// not have is refused: instrumenting must not make it valid with access to
// $fuel or $stop. (An element segment naming $refill is not looked at:
// calling $refill only checks $stop, exits to Go and refills the fuel.)
//
// A start section would run inside instantiation, before the host holds the
// global; Instrument removes it and exports its function as StartExport
// instead, for the host to call right after instantiation (which is what the
// start section means: after the segments are initialised).
//
// One more rewrite, for speed, not for stopping: when it provably leaves
// the initial memory unchanged, the data section's active segments are
// merged into a few large ones (packData; a Go module's ≈ 30k segments
// made wazero's decoding and every instantiation slow).
//
// Everything else is kept byte-identical. Instrument decodes every MVP
// instruction plus sign extension, saturating truncation, bulk memory,
// reference types, multi-value block types, tail calls and fixed-width SIMD;
// anything else (threads/atomics 0xFE, exceptions, GC, multi-memory, unknown
// sections) returns an error wrapping ErrUnsupported so the caller can fall
// back. Arbitrary bytes return an error, never a panic. Instrument does not
// validate the module: the caller compiles the result with wazero, which
// does. The binary primitives (LEB128, names, limits, sections) come from
// internal/wasmbin's Reader.
package interrupt

import (
	"errors"
	"fmt"

	"github.com/cloudless-network/cloudless/executor/internal/wasmbin"
)

// Names the instrumented module exports. A module that already exports one
// of them is refused (ErrReserved).
const (
	StopExport  = "__cloudless_stop"
	StartExport = "__cloudless_start"
)

// Version changes whenever Instrument's output for the same input changes.
const Version = 5

// FuelPeriod is the number of checks (loop iterations and calls) between two
// exits to Go, where the guest also reads the stop flag. At a few ns per
// iteration that is well under a millisecond; the exit costs ≈ 0.1 µs.
const FuelPeriod = 1 << 14

var (
	// ErrMalformed is returned (wrapped) for bytes that are not a
	// well-formed module as far as Instrument reads it. It is
	// wasmbin.ErrMalformed.
	ErrMalformed = wasmbin.ErrMalformed
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
	secs, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, err
	}
	last := 0
	for _, s := range secs {
		if s.ID == secCustom {
			continue
		}
		rk, ok := rank[s.ID]
		if !ok {
			return nil, fmt.Errorf("%w: section id %d", ErrUnsupported, s.ID)
		}
		if rk <= last {
			return nil, fmt.Errorf("%w: section %d out of order or repeated", ErrMalformed, s.ID)
		}
		last = rk
	}

	// First pass: count globals, functions and types, read the exports and
	// the start function.
	var importedGlobals, definedGlobals, importedFuncs, definedFuncs, types uint32
	hasMemory, exportsMemory, hasData, hasCode := false, false, false, false
	importsMemory, hasDataCount := false, false
	startFunc, hasStart := uint32(0), false
	for _, s := range secs {
		sr := &wasmbin.Reader{B: s.Payload}
		switch s.ID {
		case secType:
			if types, err = sr.U32(); err != nil {
				return nil, err
			}
		case secImport:
			var mems uint32
			if importedFuncs, importedGlobals, mems, err = countImports(sr); err != nil {
				return nil, err
			}
			hasMemory = hasMemory || mems > 0
			importsMemory = mems > 0
		case secFunction:
			if definedFuncs, err = sr.U32(); err != nil {
				return nil, err
			}
		case secMemory:
			n, err := sr.U32()
			if err != nil {
				return nil, err
			}
			hasMemory = hasMemory || n > 0
		case secGlobal:
			if definedGlobals, err = sr.U32(); err != nil {
				return nil, err
			}
		case secExport:
			if exportsMemory, err = checkExports(sr, importedGlobals+definedGlobals, importedFuncs+definedFuncs); err != nil {
				return nil, err
			}
		case secStart:
			if startFunc, err = sr.U32(); err != nil {
				return nil, err
			}
			hasStart = true
		case secData, secDataCount:
			hasData = true
			hasDataCount = hasDataCount || s.ID == secDataCount
		case secCode:
			hasCode = true
		}
	}
	funcs := uint64(importedFuncs) + uint64(definedFuncs)
	if hasStart && uint64(startFunc) >= funcs {
		return nil, errTouchesAdded
	}
	if funcs >= 1<<32-1 || types >= 1<<32-1 || definedFuncs >= 1<<32-1 {
		return nil, fmt.Errorf("%w: too many functions or types", ErrMalformed)
	}
	if !hasMemory && (exportsMemory || hasData) {
		// Only valid with the memory Instrument would add.
		return nil, errTouchesAdded
	}
	stopIdx := uint64(importedGlobals) + uint64(definedGlobals)
	if stopIdx >= 1<<32-2 {
		return nil, fmt.Errorf("%w: too many globals", ErrMalformed)
	}
	// mut i32 (i32.const 0), mut i32 (i32.const FuelPeriod)
	stopGlobal := appendS32([]byte{0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01, 0x41}, FuelPeriod)
	stopGlobal = append(stopGlobal, 0x0b)
	stopExport := appendExport(nil, StopExport, 3, uint32(stopIdx))
	var startExport []byte
	if hasStart {
		startExport = appendExport(nil, StartExport, 0, startFunc)
	}

	// The slow path of every check is a call to a new function, $refill,
	// with a new type () -> (), both at the end of their index spaces.
	refillType, refillIdx := types, uint32(funcs)
	refillTypeEntry := []byte{0x60, 0x00, 0x00}
	refillFunc := appendU32(nil, refillType)

	out := make([]byte, 0, len(wasm)+len(wasm)/16+64)
	out = append(out, wasm[:8]...)
	needMemory, needGlobal, needExport := !hasMemory, true, true
	// Without a code section there is nothing to check and no $refill.
	needType, needFunc := hasCode, hasCode
	// flush emits the missing type, function, memory, global and export
	// sections before a section that must follow them.
	flush := func(before int) {
		if needType && before > rank[secType] {
			out = appendSection(out, secType, appendVecOf(nil, 1, refillTypeEntry))
			needType = false
		}
		if needFunc && before > rank[secFunction] {
			out = appendSection(out, secFunction, appendVecOf(nil, 1, refillFunc))
			needFunc = false
		}
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
		if s.ID != secCustom {
			flush(rank[s.ID])
		}
		sr := &wasmbin.Reader{B: s.Payload}
		switch s.ID {
		case secType:
			if !needType {
				out = append(out, wasm[s.Start:s.End]...)
				break
			}
			n, _ := sr.U32()
			body := append(append([]byte(nil), sr.B[sr.Off:]...), refillTypeEntry...)
			out = appendSection(out, secType, appendVecOf(nil, n+1, body))
			needType = false
		case secFunction:
			if !needFunc {
				out = append(out, wasm[s.Start:s.End]...)
				break
			}
			n, _ := sr.U32()
			body := append(append([]byte(nil), sr.B[sr.Off:]...), refillFunc...)
			out = appendSection(out, secFunction, appendVecOf(nil, n+1, body))
			needFunc = false
		case secMemory:
			if needMemory { // an empty memory section
				out = appendSection(out, secMemory, []byte{1, 0, 0})
				needMemory = false
			} else {
				out = append(out, wasm[s.Start:s.End]...)
			}
		case secGlobal:
			n, _ := sr.U32()
			body := append(append([]byte(nil), sr.B[sr.Off:]...), stopGlobal...)
			out = appendSection(out, secGlobal, appendVecOf(nil, n+2, body))
			needGlobal = false
		case secExport:
			n, _ := sr.U32()
			body := append(append([]byte(nil), sr.B[sr.Off:]...), stopExport...)
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
			c := &coder{
				stop: uint32(stopIdx), fuel: uint32(stopIdx) + 1, globals: uint32(stopIdx),
				refill: refillIdx, noMemory: !hasMemory,
			}
			body, err := c.code(sr)
			if err != nil {
				return nil, err
			}
			out = appendSection(out, secCode, body)
		case secData:
			// Fewer, larger segments, same initial memory (packData).
			if p := packData(s.Payload); p != nil && !importsMemory && !hasDataCount {
				out = appendSection(out, secData, p)
			} else {
				out = append(out, wasm[s.Start:s.End]...)
			}
		default:
			out = append(out, wasm[s.Start:s.End]...)
		}
	}
	flush(rank[secData] + 1)
	return out, nil
}

// countImports returns the number of imported functions, globals and
// memories.
func countImports(r *wasmbin.Reader) (funcs, globals, mems uint32, err error) {
	n, err := r.U32()
	if err != nil {
		return 0, 0, 0, err
	}
	for i := uint32(0); i < n; i++ {
		for range 2 { // module, name
			if _, err := r.Name(); err != nil {
				return 0, 0, 0, err
			}
		}
		kind, err := r.Byte()
		if err != nil {
			return 0, 0, 0, err
		}
		switch kind {
		case 0: // func: typeidx
			funcs++
			_, err = r.U32()
		case 1: // table: reftype limits
			if _, err = r.Byte(); err == nil {
				_, err = r.Limits()
			}
		case 2: // memory: limits
			mems++
			_, err = r.Limits()
		case 3: // global: valtype mut
			globals++
			if _, err = r.Byte(); err == nil {
				_, err = r.Byte()
			}
		case 4: // tag: attribute typeidx
			if _, err = r.Byte(); err == nil {
				_, err = r.U32()
			}
		default:
			return 0, 0, 0, fmt.Errorf("%w: import kind %d", ErrUnsupported, kind)
		}
		if err != nil {
			return 0, 0, 0, err
		}
	}
	return funcs, globals, mems, nil
}

// checkExports refuses the reserved names and exports of globals the module
// does not have, and reports whether it exports a memory.
func checkExports(r *wasmbin.Reader, globals, funcs uint32) (memory bool, err error) {
	n, err := r.U32()
	if err != nil {
		return false, err
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.Name()
		if err != nil {
			return false, err
		}
		if name == StopExport || name == StartExport {
			return false, fmt.Errorf("%w: %q", ErrReserved, name)
		}
		kind, err := r.Byte()
		if err != nil {
			return false, err
		}
		idx, err := r.U32()
		if err != nil {
			return false, err
		}
		switch {
		case kind == 2:
			memory = true
		case kind == 3 && idx >= globals, kind == 0 && idx >= funcs:
			return false, errTouchesAdded
		}
	}
	return memory, nil
}

// coder rewrites the code section.
type coder struct {
	stop, fuel uint32 // indices of the added globals
	// globals is the module's own number of globals (a higher index would
	// name the ones Instrument adds); noMemory: the module has no memory of
	// its own (Instrument adds one, which the code must not use).
	globals  uint32
	noMemory bool
	refill   uint32 // index of the added function; also the module's own number of functions

	check []byte // appendCheck's code
	loops []int  // offsets right after each loop's block type in a body
	body  []byte
}

// code rewrites the code section payload in r.
func (c *coder) code(r *wasmbin.Reader) ([]byte, error) {
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	if n == 1<<32-1 {
		return nil, fmt.Errorf("%w: too many function bodies", ErrMalformed)
	}
	c.check = appendCheck(nil, c.fuel, c.refill)
	out := make([]byte, 0, len(r.B)+len(r.B)/16+64)
	out = appendU32(out, n+1)
	for i := uint32(0); i < n; i++ {
		size, err := r.U32()
		if err != nil {
			return nil, err
		}
		code, err := r.Bytes(int(size))
		if err != nil {
			return nil, err
		}
		body, err := c.function(code)
		if err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if r.Off != len(r.B) {
		return nil, fmt.Errorf("%w: %d bytes after the code section's bodies", ErrMalformed, len(r.B)-r.Off)
	}
	refill := appendRefill(nil, c.stop, c.fuel)
	out = appendU32(out, uint32(len(refill)))
	return append(out, refill...), nil
}

// function returns the instrumented body code of a function; the result
// is valid until the next call.
func (c *coder) function(code []byte) ([]byte, error) {
	r := &wasmbin.Reader{B: code}
	groups, err := r.U32()
	if err != nil {
		return nil, err
	}
	for i := uint32(0); i < groups; i++ {
		if _, err := r.U32(); err != nil {
			return nil, err
		}
		if err := valtype(r); err != nil {
			return nil, err
		}
	}
	localsEnd := r.Off
	hasCall, err := c.scan(r)
	if err != nil {
		return nil, err
	}
	if !hasCall && len(c.loops) == 0 {
		// Straight-line code and forward branches only: each instruction
		// runs at most once per call.
		return code, nil
	}
	out := append(c.body[:0], code[:localsEnd]...)
	if hasCall {
		out = append(out, c.check...)
	}
	prev := localsEnd
	for _, off := range c.loops {
		out = append(out, code[prev:off]...)
		out = append(out, c.check...)
		prev = off
	}
	out = append(out, code[prev:]...)
	c.body = out
	return out, nil
}

// scan decodes a body's instructions from r, checks them as far as
// Instrument needs, records in c.loops where each loop's body starts, and
// reports whether the body has a call instruction.
func (c *coder) scan(r *wasmbin.Reader) (hasCall bool, err error) {
	c.loops = c.loops[:0]
	d := &decoder{Reader: r, globals: c.globals, noMemory: c.noMemory}
	depth := 0 // open blocks beyond the function's own
	for r.Off < len(r.B) {
		start := r.Off
		op, err := r.Byte()
		if err != nil {
			return false, err
		}
		switch {
		case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0f || op == 0x1a || op == 0x1b ||
			op == 0xd1 || (op >= 0x45 && op <= 0xc4):
			// no immediate
		case op == 0x02 || op == 0x04: // block if
			err = d.blockType()
			depth++
		case op == 0x03: // loop
			if err = d.blockType(); err == nil {
				c.loops = append(c.loops, r.Off)
			}
			depth++
		case op == 0x0b: // end
			depth--
			if depth < 0 && r.Off != len(r.B) {
				return false, fmt.Errorf("%w: code after the function's end", ErrMalformed)
			}
		case op == 0x0c || op == 0x0d || // br br_if
			(op >= 0x20 && op <= 0x22) || op == 0x25 || op == 0x26: // locals, table.get/set
			_, err = r.U32()
		case op == 0xd2: // ref.func
			var idx uint32
			if idx, err = r.U32(); err == nil && idx >= c.refill {
				err = errTouchesAdded
			}
		case op == 0x10 || op == 0x12: // call return_call
			var idx uint32
			if idx, err = r.U32(); err == nil && idx >= c.refill {
				err = errTouchesAdded
			}
			hasCall = true
		case op == 0x23 || op == 0x24: // global.get global.set
			var idx uint32
			if idx, err = r.U32(); err == nil && idx >= c.globals {
				err = errTouchesAdded
			}
		case op == 0x11 || op == 0x13: // call_indirect return_call_indirect: type table
			if _, err = r.U32(); err == nil {
				_, err = r.U32()
			}
			hasCall = true
		case op == 0x0e: // br_table
			var k uint32
			if k, err = r.U32(); err == nil {
				for j := uint64(0); j <= uint64(k) && err == nil; j++ {
					_, err = r.U32()
				}
			}
		case op == 0x1c: // select t*
			var k uint32
			if k, err = r.U32(); err == nil {
				for j := uint32(0); j < k && err == nil; j++ {
					err = valtype(r)
				}
			}
		case op >= 0x28 && op <= 0x3e: // loads and stores
			err = d.memarg()
		case op == 0x3f || op == 0x40: // memory.size memory.grow
			err = d.memIndex()
		case op == 0x41:
			_, err = r.SLEB(32)
		case op == 0x42:
			_, err = r.SLEB(64)
		case op == 0x43:
			_, err = r.Bytes(4)
		case op == 0x44:
			_, err = r.Bytes(8)
		case op == 0xd0: // ref.null t
			var t byte
			if t, err = r.Byte(); err == nil && t != 0x70 && t != 0x6f {
				err = fmt.Errorf("%w: ref.null heap type 0x%x", ErrUnsupported, t)
			}
		case op == 0xfc:
			err = d.prefixFC()
		case op == 0xfd:
			err = d.prefixFD()
		default:
			err = fmt.Errorf("%w: opcode 0x%02x at offset %d", ErrUnsupported, op, start)
		}
		if err != nil {
			return false, err
		}
	}
	if depth != -1 {
		return false, fmt.Errorf("%w: function body does not end with end", ErrMalformed)
	}
	return hasCall, nil
}

// appendCheck appends the check of the package documentation:
//
//	global.get $fuel  i32.const 1  i32.sub  global.set $fuel
//	global.get $fuel  i32.eqz
//	if  call $refill  end
func appendCheck(b []byte, fuel, refill uint32) []byte {
	getFuel := appendU32([]byte{0x23}, fuel)
	b = append(b, getFuel...)
	b = append(b, 0x41, 0x01, 0x6b, 0x24) // i32.const 1 i32.sub global.set
	b = appendU32(b, fuel)
	b = append(b, getFuel...)
	b = append(b, 0x45, 0x04, 0x40, 0x10) // i32.eqz if call
	b = appendU32(b, refill)
	return append(b, 0x0b) // end
}

// appendRefill appends the body of $refill, the slow path:
//
//	global.get $stop  if unreachable end
//	i32.const 0  memory.grow  drop        ;; exits to Go: a preemption point
//	i32.const FuelPeriod  global.set $fuel
func appendRefill(b []byte, stop, fuel uint32) []byte {
	b = append(b, 0x00, 0x23) // no locals; global.get
	b = appendU32(b, stop)
	b = append(b, 0x04, 0x40, 0x00, 0x0b)       // if unreachable end
	b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0 memory.grow drop
	b = append(b, 0x41)
	b = appendS32(b, FuelPeriod)
	b = append(b, 0x24)
	b = appendU32(b, fuel)
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

// decoder reads instruction immediates that depend on the module.
type decoder struct {
	*wasmbin.Reader
	globals  uint32
	noMemory bool
}

// errTouchesAdded refuses code that would only be valid because of what
// Instrument adds: an invalid module must not become a valid one that can
// reset its own fuel or clear the stop flag.
var errTouchesAdded = fmt.Errorf("%w: code refers to a global or memory the module does not have", ErrMalformed)

func (d *decoder) useMemory() error {
	if d.noMemory {
		return errTouchesAdded
	}
	return nil
}

func (d *decoder) prefixFC() error {
	sub, err := d.U32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncation
		return nil
	case sub == 8: // memory.init data mem
		if _, err := d.U32(); err != nil {
			return err
		}
		return d.memIndex()
	case sub == 9 || sub == 13 || sub == 15 || sub == 16 || sub == 17: // data.drop elem.drop table.grow/size/fill
		_, err := d.U32()
		return err
	case sub == 10: // memory.copy dst src
		if err := d.memIndex(); err != nil {
			return err
		}
		return d.memIndex()
	case sub == 11: // memory.fill
		return d.memIndex()
	case sub == 12 || sub == 14: // table.init elem table, table.copy dst src
		if _, err := d.U32(); err != nil {
			return err
		}
		_, err := d.U32()
		return err
	}
	return fmt.Errorf("%w: opcode 0xfc %d", ErrUnsupported, sub)
}

func (d *decoder) prefixFD() error {
	sub, err := d.U32()
	if err != nil {
		return err
	}
	if sub > 0xff || !simdKnown[sub] {
		return fmt.Errorf("%w: opcode 0xfd %d", ErrUnsupported, sub)
	}
	switch {
	case sub <= 0x0b || sub == 0x5c || sub == 0x5d: // loads, store, load_zero
		return d.memarg()
	case sub >= 0x54 && sub <= 0x5b: // load/store lane
		if err := d.memarg(); err != nil {
			return err
		}
		_, err := d.Byte()
		return err
	case sub == 0x0c || sub == 0x0d: // v128.const, i8x16.shuffle
		_, err := d.Bytes(16)
		return err
	case sub >= 0x15 && sub <= 0x22: // extract/replace lane
		_, err := d.Byte()
		return err
	}
	return nil
}

func isValType(t byte) bool {
	switch t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return true
	}
	return false
}

func valtype(r *wasmbin.Reader) error {
	t, err := r.Byte()
	if err != nil {
		return err
	}
	if !isValType(t) {
		return fmt.Errorf("%w: value type 0x%x", ErrUnsupported, t)
	}
	return nil
}

// blockType skips a block type: empty, a value type or a type index (s33).
func (d *decoder) blockType() error {
	if d.Off >= len(d.B) {
		return fmt.Errorf("%w: unexpected end at offset %d", ErrMalformed, d.Off)
	}
	if t := d.B[d.Off]; t == 0x40 || isValType(t) {
		d.Off++
		return nil
	}
	v, err := d.SLEB(33)
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
func (d *decoder) memarg() error {
	if err := d.useMemory(); err != nil {
		return err
	}
	align, err := d.U32()
	if err != nil {
		return err
	}
	if align >= 64 {
		return fmt.Errorf("%w: memarg with memory index", ErrUnsupported)
	}
	_, err = d.ULEB(64)
	return err
}

// memIndex reads a memory index, which must be 0 (no multi-memory).
func (d *decoder) memIndex() error {
	if err := d.useMemory(); err != nil {
		return err
	}
	c, err := d.Byte()
	if err != nil {
		return err
	}
	if c != 0 {
		return fmt.Errorf("%w: memory index %d", ErrUnsupported, c)
	}
	return nil
}
