package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzRun feeds arbitrary bytes as a module. Run must return (a result or)
// one of the package's errors, never panic or hang; a panic recovered at the
// boundary is a bug too, so it fails the fuzz run.
func FuzzRun(f *testing.F) {
	wats, _ := filepath.Glob(filepath.Join("testdata", "*.wasm"))
	for _, p := range wats {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\xff"))
	e, err := New(WithMaxConcurrent(1), WithMaxCompiled(4))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close(context.Background()) })
	sentinels := []error{ErrInvalidModule, ErrMissingImport, ErrNoStart, ErrDeadline, ErrMemoryLimit,
		ErrOutputLimit, ErrModuleTooLarge, ErrStdinTooLarge, ErrTrap, ErrHost}
	f.Fuzz(func(t *testing.T, module []byte) {
		res, err := e.Run(context.Background(), Spec{Module: module, OutDir: t.TempDir(), Deterministic: true,
			Limits: Limits{Timeout: 200 * time.Millisecond, Memory: 16 * MiB, MaxOutput: 4096}})
		if err == nil {
			if res == nil {
				t.Fatal("nil result and nil error")
			}
			return
		}
		known := false
		for _, s := range sentinels {
			known = known || errors.Is(err, s)
		}
		if !known {
			t.Fatalf("error matches no sentinel: %v", err)
		}
		if strings.Contains(err.Error(), "panic:") {
			t.Fatalf("recovered panic: %v", err)
		}
	})
}
