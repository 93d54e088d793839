package executor

import (
	"context"
	"testing"
)

func TestNeedsFiles(t *testing.T) {
	for _, tc := range []struct {
		fixture string // testdata/needsfiles-<fixture>.wat
		want    bool
	}{
		{"none", false},
		{"stdio", false}, // fd_write, args_get, proc_exit
		{"prestat", true},
		{"pathopen", true},
		{"readdir", true},
		{"othermodule", true},
		{"memory", false}, // an imported memory
		{"fd3", false},    // fd_write only, used on descriptor 3
	} {
		if got := NeedsFiles(fixture(t, "needsfiles-"+tc.fixture)); got != tc.want {
			t.Errorf("%s: NeedsFiles = %v, want %v", tc.fixture, got, tc.want)
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
	m := fixture(t, "needsfiles-fd3")
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
