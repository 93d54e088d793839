package interrupt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/cloudless-network/cloudless/executor/internal/wasmbin"
)

// modules returns the executor's fixtures and, when built, the examples'
// modules (build/examples/*.wasm), by name.
func modules(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*.wasm"))
	ex, _ := filepath.Glob(filepath.Join("..", "..", "..", "build", "examples", "*.wasm"))
	m := map[string][]byte{}
	for _, p := range append(paths, ex...) {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		m[p] = b
	}
	if len(m) < 10 {
		tb.Fatalf("only %d fixtures found", len(m))
	}
	return m
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name+".wasm"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// newRuntime is a compiler runtime like the executor's (no
// WithCloseOnContextDone) with WASI.
func newRuntime(tb testing.TB) wazero.Runtime {
	tb.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	tb.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	return r
}

// TestRoundTrip instruments every fixture; the result must compile whenever
// the original does, export the stop global, and be refused if instrumented
// again.
func TestRoundTrip(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	for p, b := range modules(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			out, err := Instrument(b)
			if strings.HasSuffix(p, "reserved.wasm") {
				if !errors.Is(err, ErrReserved) {
					t.Fatalf("reserved name: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("instrument: %v", err)
			}
			if testing.Short() && len(b) > 1<<20 {
				t.Skip("-short: not compiling a large module twice")
			}
			if _, err := r.CompileModule(ctx, b); err != nil {
				t.Skipf("original does not compile: %v", err)
			}
			cm, err := r.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("instrumented module does not compile: %v", err)
			}
			defer cm.Close(ctx)
			if _, err := Instrument(out); !errors.Is(err, ErrReserved) {
				t.Fatalf("instrumenting twice: %v", err)
			}
			again, err := Instrument(b)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatal("not deterministic")
			}
		})
	}
}

// run instantiates module without start functions, calls the start export
// (if any) and _start, and returns stdout and the error. stopAfter > 0 sets
// the stop global after that long.
func run(r wazero.Runtime, module []byte, stdin []byte, stopAfter time.Duration) (string, error) {
	ctx := context.Background()
	cm, err := r.CompileModule(ctx, module)
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	defer cm.Close(ctx)
	var out bytes.Buffer
	mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").
		WithStdout(&out).WithStdin(bytes.NewReader(stdin)).WithStartFunctions())
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	defer mod.Close(ctx)
	if stopAfter > 0 {
		g := mod.ExportedGlobal(StopExport).(api.MutableGlobal)
		tm := time.AfterFunc(stopAfter, func() { g.Set(1) })
		defer tm.Stop()
	}
	for _, name := range []string{StartExport, "_start"} {
		if fn := mod.ExportedFunction(name); fn != nil {
			if _, err := fn.Call(ctx); err != nil {
				var exit *sys.ExitError
				if errors.As(err, &exit) && exit.ExitCode() == 0 {
					return out.String(), nil
				}
				return out.String(), err
			}
		}
	}
	return out.String(), nil
}

// TestBehavesTheSame runs originals and instrumented modules side by side.
func TestBehavesTheSame(t *testing.T) {
	r := newRuntime(t)
	input := bytes.Repeat([]byte("cloudless "), 100_000)
	for _, tt := range []struct {
		name  string
		stdin []byte
	}{{"sha256", input}, {"tool", nil}, {"features", nil}, {"named", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			orig := fixture(t, tt.name)
			ins, err := Instrument(orig)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := run(r, orig, tt.stdin, 0)
			got, gerr := run(r, ins, tt.stdin, 0)
			if got != want || (werr == nil) != (gerr == nil) {
				t.Fatalf("instrumented %q %v, original %q %v", got, gerr, want, werr)
			}
			if want == "" && tt.name != "named" {
				t.Fatal("no output to compare")
			}
		})
	}
}

// TestStops: modules that never end are stopped by the stop global, with an
// "unreachable" trap: loops (nested, br_table, br to an outer multi-value
// loop), exponential recursion without loops, and a spinning start section.
func TestStops(t *testing.T) {
	r := newRuntime(t)
	for _, name := range []string{"loop", "nested", "fib", "startspin", "signal", "brif", "brtable", "indirect"} {
		t.Run(name, func(t *testing.T) {
			ins, err := Instrument(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := run(r, ins, nil, 20*time.Millisecond)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "unreachable") {
					t.Fatalf("err %v, want the unreachable trap", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("not stopped within a minute")
			}
		})
	}
}

// TestStopsAllProcs: as many spinning guests as GOMAXPROCS are still
// stopped: the periodic exit to Go lets the timer that stops them run.
func TestStopsAllProcs(t *testing.T) {
	r := newRuntime(t)
	ins, err := Instrument(fixture(t, "nested"))
	if err != nil {
		t.Fatal(err)
	}
	n := max(2, min(4, runtime.GOMAXPROCS(0)))
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := run(r, ins, nil, 20*time.Millisecond)
			done <- err
		}()
	}
	for range n {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "unreachable") {
				t.Fatalf("err %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("not stopped within a minute")
		}
	}
}

// TestSections checks the section layout of the output: new memory, global
// and export sections in their place, the start section gone, custom
// sections kept, every other section byte-identical.
func TestSections(t *testing.T) {
	orig := fixture(t, "startspin") // has globals, no memory, a start section, a name section
	out, err := Instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(b []byte) (ids []byte, secs map[byte][]byte) {
		secs = map[byte][]byte{}
		ss, err := wasmbin.Sections(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			ids, secs[s.ID] = append(ids, s.ID), s.Payload
		}
		return ids, secs
	}
	oi, os_ := ids(orig)
	ni, ns := ids(out)
	if !bytes.Equal(oi, []byte{1, 3, 6, 7, 8, 10, 0}) {
		t.Fatalf("fixture sections changed: %v", oi)
	}
	if !bytes.Equal(ni, []byte{1, 3, 5, 6, 7, 10, 0}) {
		t.Fatalf("sections %v", ni)
	}
	if !bytes.Equal(os_[0], ns[0]) {
		t.Error("custom section changed")
	}
	// One more type, () -> (), and one more function of that type: $refill.
	for _, id := range []byte{1, 3} {
		o, n := os_[id], ns[id]
		if n[0] != o[0]+1 || !bytes.Equal(n[1:len(o)], o[1:]) {
			t.Errorf("section %d: % x -> % x", id, o, n)
		}
	}
	if !bytes.HasSuffix(ns[1], []byte{0x60, 0, 0}) || ns[3][len(ns[3])-1] != os_[1][0] {
		t.Errorf("refill type or function: % x, % x", ns[1], ns[3])
	}
	// Without global and export sections at all: both are created.
	bare := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type () -> ()
		"\x03\x02\x01\x00" + // one function
		"\x0a\x04\x01\x02\x00\x0b") // body: no locals, end
	out, err = Instrument(bare)
	if err != nil {
		t.Fatal(err)
	}
	if ni, _ := ids(out); !bytes.Equal(ni, []byte{1, 3, 5, 6, 7, 10}) {
		t.Fatalf("bare module sections %v", ni)
	}
	r := newRuntime(t)
	if _, err := r.CompileModule(context.Background(), out); err != nil {
		t.Fatal(err)
	}
}

func TestRefused(t *testing.T) {
	for name, b := range map[string]string{
		"empty":          "",
		"garbage":        "this is not wasm",
		"version 2":      "\x00asm\x02\x00\x00\x00",
		"unknown sect":   "\x00asm\x01\x00\x00\x00\x0e\x00",
		"sect overrun":   "\x00asm\x01\x00\x00\x00\x01\x05\x00",
		"out of order":   "\x00asm\x01\x00\x00\x00\x03\x01\x00\x01\x01\x00",
		"atomics":        "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x01\x05\x00\xfe\x03\x00\x0b",
		"bad fc":         "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\xfc\x63\x0b",
		"bad simd":       "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x01\x05\x00\xfd\x9a\x01\x0b",
		"try_table":      "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x1f\x40\x0b",
		"no end":         "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x04\x01\x02\x00\x01",
		"body overrun":   "\x00asm\x01\x00\x00\x00\x0a\x04\x01\x09\x00\x0b",
		"long leb":       "\x00asm\x01\x00\x00\x00\x01\xff\xff\xff\xff\xff\x0f",
		"multi-memory":   "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x41\x00\x28\x40\x01\x00\x0b",
		"trailing bytes": "\x00asm\x01\x00\x00\x00\x0a\x05\x01\x02\x00\x0b\x00",
	} {
		if _, err := Instrument([]byte(b)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: panicked: %v", name, err)
		}
	}
	if _, err := Instrument(fixture(t, "reserved")); !errors.Is(err, ErrReserved) {
		t.Fatalf("reserved: %v", err)
	}
}

// TestTruncated: every prefix and some corruptions of the small fixtures
// give an error or a module, never a panic.
func TestTruncated(t *testing.T) {
	for p, b := range modules(t) {
		if len(b) > 64<<10 {
			b = b[:64<<10]
		}
		step := max(1, len(b)/2000)
		for n := 0; n < len(b); n += step {
			if _, err := Instrument(b[:n]); err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%s[:%d]: %v", p, n, err)
			}
		}
		c := bytes.Clone(b)
		for i := 8; i < len(c); i += step * 7 {
			c[i] ^= 0xa5
			if _, err := Instrument(c); err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%s corrupted at %d: %v", p, i, err)
			}
		}
	}
}

// FuzzInstrument: arbitrary bytes never panic, and whenever wazero accepts
// the original, it accepts the instrumented module too.
func FuzzInstrument(f *testing.F) {
	for _, b := range modules(f) {
		if len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	ctx := context.Background()
	// A small memory limit: instantiating a fuzzed module must not
	// allocate gigabytes.
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithMemoryLimitPages(64))
	f.Cleanup(func() { r.Close(ctx) })
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Instrument(b)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		cm, err := r.CompileModule(ctx, b)
		if err != nil {
			return
		}
		cm.Close(ctx)
		cm, err = r.CompileModule(ctx, out)
		if err != nil && strings.Contains(err.Error(), "section custom") {
			// wazero v1.12 reads a malformed name section past its end
			// (names.go takes no limit for the subsections' contents), so
			// whether it is accepted depends on the bytes after it, which
			// Instrument adds to. The executor then compiles the original
			// on the fallback runtime: stoppable, only slower
			// (testdata/fuzz/FuzzInstrument/4dea1d08fc7fb032).
			return
		}
		if err != nil {
			t.Fatalf("original compiles, instrumented does not: %v", err)
		}
		cm.Close(ctx)
		// Same initial memory (packData), unless a start section would run
		// guest code during instantiation (it could loop forever).
		secs, _ := wasmbin.Sections(b)
		for _, s := range secs {
			if s.ID == secStart {
				return
			}
		}
		want, werr := instantiateMemories(ctx, r, b)
		got, gerr := instantiateMemories(ctx, r, out)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("instantiation: original %v, instrumented %v", werr, gerr)
		}
		for name, m := range want {
			if !bytes.Equal(m, got[name]) {
				t.Fatalf("initial memory %q differs", name)
			}
		}
	})
}

// instantiateMemories instantiates m without start functions and returns
// the contents of its exported memories.
func instantiateMemories(ctx context.Context, r wazero.Runtime, m []byte) (map[string][]byte, error) {
	cm, err := r.CompileModule(ctx, m)
	if err != nil {
		return nil, err
	}
	defer cm.Close(ctx)
	mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, err
	}
	defer mod.Close(ctx)
	out := map[string][]byte{}
	for name := range cm.ExportedMemories() {
		mem := mod.ExportedMemory(name)
		b, _ := mem.Read(0, mem.Size())
		out[name] = bytes.Clone(b)
	}
	return out, nil
}

// BenchmarkInstrument rewrites the largest module at hand (a Go example
// when build/examples is built, else the C tool).
func BenchmarkInstrument(b *testing.B) {
	var big []byte
	for _, m := range modules(b) {
		if len(m) > len(big) {
			big = m
		}
	}
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		if _, err := Instrument(big); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNoUseOfAddedState: an invalid module that names the globals or the
// memory Instrument would add is refused, so it cannot become a valid module
// that resets its own fuel or clears the stop flag.
func TestNoUseOfAddedState(t *testing.T) {
	const head = "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
	for name, b := range map[string]string{
		// loop: i32.const 0; global.set 1 ($fuel); br 0
		"sets fuel": head + "\x0a\x0b\x01\x09\x00\x03\x40\x41\x00\x24\x01\x0c\x00\x0b\x0b",
		// global.get 0 ($stop); drop
		"reads stop": head + "\x0a\x07\x01\x05\x00\x23\x00\x1a\x0b",
		// i32.const 0; i32.load; drop — no memory
		"uses memory": head + "\x0a\x0a\x01\x08\x00\x41\x00\x28\x02\x00\x1a\x0b",
		// memory.size; drop
		"memory.size": head + "\x0a\x07\x01\x05\x00\x3f\x00\x1a\x0b",
		// export "m" memory 0 without a memory
		"exports memory": "\x00asm\x01\x00\x00\x00\x07\x05\x01\x01m\x02\x00",
		// export "g" global 0 without globals
		"exports global": "\x00asm\x01\x00\x00\x00\x07\x05\x01\x01g\x03\x00",
		// a data section without a memory
		"data": "\x00asm\x01\x00\x00\x00\x0b\x01\x00",
		// call 1 ($refill): one function only
		"calls refill": head + "\x0a\x06\x01\x04\x00\x10\x01\x0b",
		// return_call 1
		"tail-calls refill": head + "\x0a\x06\x01\x04\x00\x12\x01\x0b",
		// ref.func 1; drop
		"ref.func refill": head + "\x0a\x07\x01\x05\x00\xd2\x01\x1a\x0b",
		// export "f" func 1
		"exports refill": head + "\x07\x05\x01\x01f\x00\x01\x0a\x04\x01\x02\x00\x0b",
		// start 1
		"start refill": head + "\x08\x01\x01\x0a\x04\x01\x02\x00\x0b",
	} {
		if _, err := Instrument([]byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCheckPlacement: the check goes at the entry of every function with a
// call instruction (call, call_indirect, return_call,
// return_call_indirect) and after every loop; a function with neither
// stays byte-identical, and a function with loops but no call gets no
// entry check.
func TestCheckPlacement(t *testing.T) {
	bodies := []struct {
		name       string
		code       string // without the locals byte
		entry      bool
		afterLoops []int // offsets in code right after a loop's block type
	}{
		{"leaf", "\x01\x0b", false, nil},                      // nop
		{"loop", "\x03\x40\x0c\x00\x0b\x0b", false, []int{2}}, // loop br 0 end
		{"two loops", "\x03\x40\x0b\x03\x7f\x41\x00\x0b\x1a\x0b", false, []int{2, 5}},
		{"call", "\x10\x00\x0b", true, nil},                             // call 0
		{"return_call", "\x12\x00\x0b", true, nil},                      // return_call 0
		{"call_indirect", "\x41\x00\x11\x00\x00\x0b", true, nil},        // call_indirect
		{"return_call_indirect", "\x41\x00\x13\x00\x00\x0b", true, nil}, // return_call_indirect
		{"call in loop", "\x03\x40\x10\x00\x0b\x0b", true, []int{2}},
	}
	mod := []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00")
	funcs := []byte{byte(len(bodies))}
	code := []byte{byte(len(bodies))}
	for _, b := range bodies {
		funcs = append(funcs, 0)
		code = append(code, byte(len(b.code)+1), 0)
		code = append(code, b.code...)
	}
	mod = appendSection(mod, 3, funcs)
	mod = appendSection(mod, 4, []byte{1, 0x70, 0, 1}) // a table for call_indirect
	mod = appendSection(mod, 10, code)
	out, err := Instrument(mod)
	if err != nil {
		t.Fatal(err)
	}
	check := appendCheck(nil, 1, uint32(len(bodies))) // no globals: $stop = 0, $fuel = 1; $refill after the bodies
	secs, err := wasmbin.Sections(out)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, s := range secs {
		if s.ID != 10 {
			continue
		}
		r := &wasmbin.Reader{B: s.Payload}
		n, _ := r.U32()
		for range n {
			size, _ := r.U32()
			b, err := r.Bytes(int(size))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b[1:]) // no locals
		}
	}
	if len(got) != len(bodies)+1 {
		t.Fatalf("%d bodies", len(got))
	}
	if want := appendRefill(nil, 0, 1); !bytes.Equal(got[len(bodies)], want[1:]) {
		t.Errorf("refill % x, want % x", got[len(bodies)], want[1:])
	}
	for i, b := range bodies {
		var want []byte
		if b.entry {
			want = append(want, check...)
		}
		prev := 0
		for _, off := range b.afterLoops {
			want = append(want, b.code[prev:off]...)
			want = append(want, check...)
			prev = off
		}
		want = append(want, b.code[prev:]...)
		if !bytes.Equal(got[i], want) {
			t.Errorf("%s: got % x, want % x", b.name, got[i], want)
		}
	}
	// With tail calls enabled, wazero accepts the result.
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().
		WithCoreFeatures(api.CoreFeaturesV2|experimental.CoreFeaturesTailCall))
	defer r.Close(ctx)
	if _, err := r.CompileModule(ctx, out); err != nil {
		t.Fatal(err)
	}
}

// TestStopsTailCalls: a cycle of tail calls (return_call and
// return_call_indirect) grows no stack and has no loop; the checks at
// function entry stop it. The executor does not enable tail calls, but the
// instrumenter must not rely on that.
func TestStopsTailCalls(t *testing.T) {
	// (func $a (param i32) (return_call_indirect (type 0) (local.get 0 + 1) (i32.const 0)))
	// (func $b (param i32) (return_call $a (local.get 0)))  ;; table[0] = $b
	// (func (export "_start") (call $a (i32.const 0)))
	const mod = "\x00\x61\x73\x6d\x01\x00\x00\x00\x01\x08\x02\x60\x01\x7f\x00\x60\x00\x00\x03\x04\x03\x00\x00\x01" +
		"\x04\x04\x01\x70\x00\x01\x07\x0a\x01\x06\x5f\x73\x74\x61\x72\x74\x00\x02\x09\x07\x01\x00\x41\x00\x0b\x01\x01" +
		"\x0a\x1c\x03\x0c\x00\x20\x00\x41\x01\x6a\x41\x00\x13\x00\x00\x0b\x06\x00\x20\x00\x12\x00\x0b\x06\x00\x41\x00\x10\x00\x0b"
	ins, err := Instrument([]byte(mod))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().
		WithCoreFeatures(api.CoreFeaturesV2|experimental.CoreFeaturesTailCall))
	defer r.Close(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := run(r, ins, nil, 20*time.Millisecond)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("err %v, want the unreachable trap", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("not stopped within a minute")
	}
}

// BenchmarkOverhead runs the sha256 fixture (the example function) on
// 4 MiB of stdin, the original and the instrumented module alternately in
// one runtime, and reports the instrumented/original ratio of the fastest
// and of the median runs: what the checks cost in a hot loop. Alternating
// keeps a shared machine's noise out of the ratio as far as possible.
func BenchmarkOverhead(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	orig := fixture(b, "sha256")
	ins, err := Instrument(orig)
	if err != nil {
		b.Fatal(err)
	}
	r := newRuntime(b)
	ctx := context.Background()
	var cms [2]wazero.CompiledModule
	for i, m := range [][]byte{orig, ins} {
		if cms[i], err = r.CompileModule(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	var times [2][]time.Duration
	for b.Loop() {
		for i, cm := range cms {
			var out bytes.Buffer
			t0 := time.Now()
			mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").
				WithStdout(&out).WithStdin(bytes.NewReader(data)).WithStartFunctions())
			if err != nil {
				b.Fatal(err)
			}
			for _, name := range []string{StartExport, "_start"} {
				if fn := mod.ExportedFunction(name); fn != nil {
					if _, err := fn.Call(ctx); err != nil {
						var exit *sys.ExitError
						if !errors.As(err, &exit) || exit.ExitCode() != 0 {
							b.Fatal(err)
						}
					}
				}
			}
			times[i] = append(times[i], time.Since(t0))
			mod.Close(ctx)
			if out.Len() == 0 {
				b.Fatal("no output")
			}
		}
	}
	for i := range times {
		slices.Sort(times[i])
	}
	n := len(times[0])
	b.ReportMetric(float64(times[1][0])/float64(times[0][0]), "ratio-min")
	b.ReportMetric(float64(times[1][n/2])/float64(times[0][n/2]), "ratio-median")
	b.ReportMetric(float64(times[0][n/2].Nanoseconds()), "original-ns")
	b.ReportMetric(float64(times[1][n/2].Nanoseconds()), "instrumented-ns")
}
