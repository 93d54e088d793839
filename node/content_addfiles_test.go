package node

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/storage"
)

// TestStorageContentAddFiles: the market's in-memory import through the
// node's adapter gives the CID its AddDir gives the same output on disk,
// and the result reads back with Fetch.
func TestStorageContentAddFiles(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, filepath.Join(t.TempDir(), "ipfs"), &storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := storageContent{st}
	var content market.Content = c
	fa, ok := content.(market.FilesAdder)
	if !ok {
		t.Fatal("storageContent is not a market.FilesAdder")
	}
	got, err := fa.AddFiles(ctx, []market.MemFile{
		{Path: market.StdoutName, Data: []byte("hi\n")}, {Path: market.StderrName}, {Path: market.OutDirName, Dir: true}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, market.OutDirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, market.StdoutName), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, market.StderrName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := c.AddDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("AddFiles %s, AddDir %s", got, want)
	}
	out := filepath.Join(t.TempDir(), "r")
	if err := c.Fetch(ctx, got, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, market.StdoutName))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "hi\n" {
		t.Fatalf("stdout read back %q", b)
	}
	if _, err := fa.AddFiles(ctx, []market.MemFile{{Path: "../x"}}); err == nil {
		t.Fatal("AddFiles took a path outside the tree")
	}
}
