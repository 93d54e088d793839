package market

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudless-network/cloudless/market/wire"
)

// TestInlineHashMatchesDirectory: the hash the client computes over an
// inline result is the one OutputHash computes over the same files laid
// out as a directory, whatever the order they come in; and readOutput
// returns them inline only within its byte budget.
func TestInlineHashMatchesDirectory(t *testing.T) {
	files := []wire.InlineFile{
		{Path: "out/z.txt", Data: []byte("last")},
		{Path: "stderr", Data: []byte("warn\n")},
		{Path: "out/a/b.bin", Data: []byte{0, 1, 2}},
		{Path: "stdout", Data: []byte("hello\n")},
		{Path: "out/empty"},
	}
	dir := filepath.Join(t.TempDir(), "r")
	if err := writeInline(dir, files); err != nil {
		t.Fatal(err)
	}
	want, err := OutputHash(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := inlineHash(3, files); got != want {
		t.Fatalf("inline hash %x, directory hash %x", got, want)
	}
	if got := inlineHash(4, files); got == want {
		t.Fatal("exit code not in the hash")
	}
	h, inline, err := readOutput(dir, 3, 1<<10)
	if err != nil || h != want || len(inline) != len(files) {
		t.Fatalf("readOutput: %x %d files %v", h, len(inline), err)
	}
	if got := inlineHash(3, inline); got != want {
		t.Fatalf("readOutput's inline files hash to %x, want %x", got, want)
	}
	if _, inline, _ := readOutput(dir, 3, 10); inline != nil {
		t.Fatalf("%d inline files over the budget", len(inline))
	}
}

// TestWriteInlineStaysInside: a path that is not local is refused and
// nothing is written outside the result directory.
func TestWriteInlineStaysInside(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"../escape", "out/../../escape", "/abs"} {
		dir := filepath.Join(root, "r")
		err := writeInline(dir, []wire.InlineFile{{Path: "stdout"}, {Path: "stderr"}, {Path: p, Data: []byte("x")}})
		if err == nil {
			t.Errorf("%q written", p)
		}
		os.RemoveAll(dir)
	}
	if _, err := os.Stat(filepath.Join(root, "escape")); err == nil {
		t.Error("a file was written outside the result directory")
	}
}
