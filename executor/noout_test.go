package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Spec.NoOut: no /out is made, the guest cannot write one, stdout still
// works, and no temp dir is left behind.
func TestRunNoOut(t *testing.T) {
	e := newExecutor(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	tool := fixture(t, "tool")

	res, err := e.Run(context.Background(), Spec{Module: tool, NoOut: true})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "hello, world\n" || res.OutDir != "" || res.OutFiles != nil {
		t.Fatalf("stdout %q, out dir %q, out files %q", res.Stdout, res.OutDir, res.OutFiles)
	}
	res, err = e.Run(context.Background(), Spec{Module: tool, NoOut: true, Args: []string{"write", "/out/a.txt", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode == 0 || res.OutDir != "" {
		t.Fatalf("writing /out without one: exit %d, out dir %q, stdout %q", res.ExitCode, res.OutDir, res.Stdout)
	}
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Fatalf("temp dir holds %v (%v), want nothing", ents, err)
	}

	_, err = e.Run(context.Background(), Spec{Module: tool, NoOut: true, OutDir: filepath.Join(tmp, "out")})
	if !errors.Is(err, ErrHost) {
		t.Fatalf("NoOut with OutDir: %v, want ErrHost", err)
	}
}
