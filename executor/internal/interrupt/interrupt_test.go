package interrupt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
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
	for _, name := range []string{"loop", "nested", "fib", "startspin", "signal"} {
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
		r := &reader{b: b, off: 8}
		for r.off < len(r.b) {
			id, _ := r.byte()
			n, _ := r.u32()
			p, err := r.bytes(int(n))
			if err != nil {
				t.Fatal(err)
			}
			ids, secs[id] = append(ids, id), p
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
	for _, id := range []byte{1, 3, 0} {
		if !bytes.Equal(os_[id], ns[id]) {
			t.Errorf("section %d changed", id)
		}
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
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
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
		if err != nil {
			t.Fatalf("original compiles, instrumented does not: %v", err)
		}
		cm.Close(ctx)
	})
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
	} {
		if _, err := Instrument([]byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
