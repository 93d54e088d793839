package executor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// wat assembles src with wat2wasm, skipping when the tool is missing.
func wat(t *testing.T, src string) []byte {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not installed")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool, in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNeedsFiles(t *testing.T) {
	imp := func(name, sig string) string {
		return `(import "wasi_snapshot_preview1" "` + name + `" (func ` + sig + `))`
	}
	const start = `(memory (export "memory") 1) (func (export "_start"))`
	for _, tc := range []struct {
		name string
		src  string
		want bool
	}{
		{"no imports", `(module ` + start + `)`, false},
		{"stdio and args", `(module ` + imp("fd_write", "(param i32 i32 i32 i32) (result i32)") +
			imp("args_get", "(param i32 i32) (result i32)") + imp("proc_exit", "(param i32)") + start + `)`, false},
		{"prestat", `(module ` + imp("fd_prestat_get", "(param i32 i32) (result i32)") + start + `)`, true},
		{"path_open", `(module ` + imp("fd_write", "(param i32 i32 i32 i32) (result i32)") +
			imp("path_open", "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)") + start + `)`, true},
		{"fd_readdir", `(module ` + imp("fd_readdir", "(param i32 i32 i32 i64 i32) (result i32)") + start + `)`, true},
		{"other module", `(module (import "env" "f" (func)) ` + start + `)`, true},
		{"imported memory", `(module (import "wasi_snapshot_preview1" "memory" (memory 1)) (func (export "_start")))`, false},
	} {
		if got := NeedsFiles(wat(t, tc.src)); got != tc.want {
			t.Errorf("%s: NeedsFiles = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, bad := range [][]byte{nil, []byte("not wasm"), []byte("\x00asm\x01\x00\x00\x00\x02\xff")} {
		if !NeedsFiles(bad) {
			t.Errorf("NeedsFiles(%q) = false, want true for a malformed module", bad)
		}
	}
}

// A module NeedsFiles clears runs the same with and without a /out: same
// exit code, same stdout, even when it writes to descriptor 3 (where /out
// would be) on a guess: the write fails either way (only its error number
// differs, EISDIR or EBADF, as NeedsFiles says).
func TestNeedsFilesNoOutSameOutput(t *testing.T) {
	e := newExecutor(t)
	m := wat(t, `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hi\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (i32.store (i32.const 8) (i32.const 0))
    (if (i32.eqz (call $w (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 8)))
      (then (i32.store8 (i32.const 16) (i32.const 79)))) ;; "O": the write worked
    (i32.store8 (i32.const 17) (i32.add (i32.const 48) (i32.load (i32.const 8)))) ;; bytes written
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`)
	if NeedsFiles(m) {
		t.Fatal("fd_write only: NeedsFiles = true")
	}
	with, err := e.Run(context.Background(), Spec{Module: m, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	without, err := e.Run(context.Background(), Spec{Module: m, NoOut: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(with.Stdout) != string(without.Stdout) || with.ExitCode != without.ExitCode {
		t.Fatalf("with /out: exit %d stdout %q; without: exit %d stdout %q", with.ExitCode, with.Stdout, without.ExitCode, without.Stdout)
	}
}
