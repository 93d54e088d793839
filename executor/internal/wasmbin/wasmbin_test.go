package wasmbin

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file    string
		imports []Import
		hasMem  bool
		minMem  uint64
	}{
		{file: "bigmin", hasMem: true, minMem: 2048},
		{file: "hiddenmem", hasMem: true, minMem: 2048},
		{file: "loop"},
		{file: "missing", imports: []Import{{Module: "env", Name: "system", Kind: KindFunc}}},
		{file: "named", hasMem: true, minMem: 1, imports: []Import{{Module: "wasi_snapshot_preview1", Name: "proc_exit", Kind: KindFunc}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", tt.file+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			info, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if info.HasMemory != tt.hasMem || info.MinMemoryPages != tt.minMem {
				t.Errorf("memory %v %d, want %v %d", info.HasMemory, info.MinMemoryPages, tt.hasMem, tt.minMem)
			}
			if len(info.Imports) != len(tt.imports) {
				t.Fatalf("imports %+v, want %+v", info.Imports, tt.imports)
			}
			for i := range tt.imports {
				if info.Imports[i] != tt.imports[i] {
					t.Errorf("import %d: %+v, want %+v", i, info.Imports[i], tt.imports[i])
				}
			}
		})
	}
}

func TestParseImportedMemoryAndKinds(t *testing.T) {
	// (import "a" "m" (memory 3 5)) (import "a" "t" (table 1 funcref))
	// (import "a" "g" (global i32))
	mod := []byte("\x00asm\x01\x00\x00\x00" +
		"\x02\x18\x03" +
		"\x01a\x01m\x02\x01\x03\x05" +
		"\x01a\x01t\x01\x70\x00\x01" +
		"\x01a\x01g\x03\x7f\x00")
	info, err := Parse(mod)
	if err != nil {
		t.Fatal(err)
	}
	if !info.HasMemory || info.MinMemoryPages != 3 || len(info.Imports) != 3 ||
		info.Imports[0].Kind != KindMemory || info.Imports[1].Kind != KindTable || info.Imports[2].Kind != KindGlobal {
		t.Fatalf("%+v", info)
	}
	if KindTag.String() != "tag" || ExternKind(9).String() != "kind(9)" {
		t.Fatal("kind names")
	}
}

func TestParseMalformed(t *testing.T) {
	for name, b := range map[string]string{
		"empty":            "",
		"no magic":         "\x01asm\x01\x00\x00\x00",
		"section overruns": "\x00asm\x01\x00\x00\x00\x05\x10\x01",
		"truncated size":   "\x00asm\x01\x00\x00\x00\x05",
		"long leb":         "\x00asm\x01\x00\x00\x00\x05\xff\xff\xff\xff\xff\xff",
		"name overruns":    "\x00asm\x01\x00\x00\x00\x02\x04\x01\x09ab",
		"bad kind":         "\x00asm\x01\x00\x00\x00\x02\x06\x01\x01a\x01b\x09",
		"bad limits":       "\x00asm\x01\x00\x00\x00\x05\x03\x01\x09\x01",
		"leb overflows":    "\x00asm\x01\x00\x00\x00\x05\x07\x01\x00\xff\xff\xff\xff\x7f",
	} {
		if _, err := Parse([]byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*.wasm"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Parse(b)
		if err == nil && info == nil {
			t.Fatal("nil info without error")
		}
	})
}
