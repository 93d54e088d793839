package interrupt

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/cloudless-network/cloudless/executor/internal/wasmbin"
)

// dataModule builds a module with one exported memory "m" of one page (or
// an imported one), an empty _start, and a data section made of segs (raw
// segment encodings); with dataCount it also has a data count section.
func dataModule(segs [][]byte, dataCount, importMemory bool) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = appendSection(b, secType, []byte{1, 0x60, 0, 0})
	if importMemory {
		b = appendSection(b, secImport, []byte{1, 3, 'e', 'n', 'v', 1, 'm', 2, 0, 1})
	}
	b = appendSection(b, secFunction, []byte{1, 0})
	if !importMemory {
		b = appendSection(b, secMemory, []byte{1, 0, 1})
	}
	b = appendSection(b, secExport, []byte{2, 1, 'm', 2, 0, 6, '_', 's', 't', 'a', 'r', 't', 0, 0})
	if dataCount {
		b = appendSection(b, secDataCount, appendU32(nil, uint32(len(segs))))
	}
	b = appendSection(b, secCode, []byte{1, 2, 0, 0x0b})
	return appendSection(b, secData, appendVecOf(nil, uint32(len(segs)), bytes.Join(segs, nil)))
}

// active is an active segment on memory 0 at the i32.const offset off.
func active(off int32, data string) []byte {
	b := appendS32([]byte{0, 0x41}, off)
	b = append(b, 0x0b)
	b = appendU32(b, uint32(len(data)))
	return append(b, data...)
}

// dataSegments returns the segment count of m's data section.
func dataSegments(t *testing.T, m []byte) uint32 {
	t.Helper()
	secs, err := wasmbin.Sections(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.ID == secData {
			n, err := (&wasmbin.Reader{B: s.Payload}).U32()
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}

// initialMemory instantiates m (no start functions) and returns its memory
// "m", or the instantiation error.
func initialMemory(t *testing.T, r wazero.Runtime, m []byte) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	cm, err := r.CompileModule(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Close(ctx)
	mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, err
	}
	defer mod.Close(ctx)
	mem, _ := mod.ExportedMemory("m").Read(0, mod.ExportedMemory("m").Size())
	return bytes.Clone(mem), nil
}

// TestPackData: Instrument merges data segments only when the initial
// memory provably stays the same, and then it does (or instantiation fails
// for both).
func TestPackData(t *testing.T) {
	r := newRuntime(t)
	passive := []byte{1, 2, 'h', 'i'}
	explicitMem := append([]byte{2, 0, 0x41, 0x10, 0x0b, 2}, "hi"...)
	for _, tt := range []struct {
		name      string
		segs      [][]byte
		dataCount bool
		importMem bool
		want      uint32 // segments after Instrument
		oob       bool   // instantiation must fail
	}{
		{name: "sorted, small gaps", segs: [][]byte{active(16, "abc"), active(40, "def"), active(43, "g"), active(100, "xyz")}, want: 1},
		{name: "unsorted", segs: [][]byte{active(100, "xyz"), active(16, "abc"), active(40, "def")}, want: 1},
		{name: "a gap over dataGap", segs: [][]byte{active(16, "abc"), active(40, "def"), active(40+3+dataGap+1, "far")}, want: 2},
		{name: "gap of exactly dataGap", segs: [][]byte{active(16, "abc"), active(19+dataGap, "def")}, want: 1},
		{name: "overlap", segs: [][]byte{active(16, "abcdef"), active(18, "XY"), active(40, "z")}, want: 3},
		{name: "same offset", segs: [][]byte{active(16, "ab"), active(16, "XY")}, want: 2},
		{name: "empty segments", segs: [][]byte{active(16, ""), active(16, "ab"), active(30, "")}, want: 1},
		{name: "data count section", segs: [][]byte{active(16, "abc"), active(20, "def")}, dataCount: true, want: 2},
		{name: "passive segment", segs: [][]byte{active(16, "abc"), passive, active(20, "def")}, dataCount: true, want: 3},
		{name: "explicit memory index", segs: [][]byte{active(16, "abc"), explicitMem}, want: 2},
		{name: "imported memory", segs: [][]byte{active(16, "abc"), active(20, "def")}, importMem: true, want: 2},
		{name: "last one out of bounds", segs: [][]byte{active(16, "abc"), active(65530, "0123456789"), active(65520, "ab")}, want: 2, oob: true},
		{name: "negative offset", segs: [][]byte{active(16, "abc"), active(-1, "x"), active(20, "d")}, want: 2, oob: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			orig := dataModule(tt.segs, tt.dataCount, tt.importMem)
			ins, err := Instrument(orig)
			if err != nil {
				t.Fatal(err)
			}
			if got := dataSegments(t, ins); got != tt.want {
				t.Fatalf("%d segments after Instrument, want %d", got, tt.want)
			}
			if tt.importMem {
				return
			}
			want, werr := initialMemory(t, r, orig)
			got, gerr := initialMemory(t, r, ins)
			if (werr != nil) != tt.oob || (gerr != nil) != tt.oob {
				t.Fatalf("instantiation errors: original %v, instrumented %v; want failure %v", werr, gerr, tt.oob)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("initial memory differs")
			}
		})
	}
}

// TestPackDataModules: for every fixture and built example whose data
// segments Instrument merged (the Go examples' ≈ 30k segments), the
// instrumented module starts with the same memory as the original.
func TestPackDataModules(t *testing.T) {
	// The interpreter: only the instantiation is compared, and it
	// "compiles" a Go module in a fraction of the compiler's time.
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	memories := func(t *testing.T, m []byte) map[string][]byte {
		cm, err := r.CompileModule(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		defer cm.Close(ctx)
		mod, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			t.Fatal(err)
		}
		defer mod.Close(ctx)
		out := map[string][]byte{}
		for name := range cm.ExportedMemories() {
			mem := mod.ExportedMemory(name)
			b, _ := mem.Read(0, mem.Size())
			out[name] = bytes.Clone(b)
		}
		return out
	}
	packed := 0
	for p, b := range modules(t) {
		ins, err := Instrument(b)
		if err != nil || dataSegments(t, ins) == dataSegments(t, b) {
			continue
		}
		if _, err := r.CompileModule(ctx, b); err != nil {
			continue // an invalid fixture
		}
		packed++
		t.Run(p, func(t *testing.T) {
			if testing.Short() && len(b) > 1<<20 {
				t.Skip("-short: not instantiating a large module twice")
			}
			want, got := memories(t, b), memories(t, ins)
			if len(want) == 0 {
				t.Fatal("no exported memory to compare")
			}
			for name := range want {
				if !bytes.Equal(want[name], got[name]) {
					t.Fatalf("memory %q differs", name)
				}
			}
		})
	}
	if packed == 0 {
		t.Fatal("no fixture had its data segments merged")
	}
}
