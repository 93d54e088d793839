package guardfs

import (
	"os"
	"path/filepath"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

func setup(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644))
	must(os.WriteFile(filepath.Join(root, "ok"), []byte("ok"), 0o644))
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "abs")))
	must(os.Symlink("../outside/secret", filepath.Join(root, "rel")))
	must(os.Symlink("../outside", filepath.Join(root, "dirlink")))
	must(os.Symlink("../outside/new", filepath.Join(root, "dangling")))
	must(os.Symlink("ok", filepath.Join(root, "inside")))
	return root, outside
}

func TestConfined(t *testing.T) {
	root, outside := setup(t)
	f, err := New(root, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func() experimentalsys.Errno
		want experimentalsys.Errno
	}{
		{"open inside", func() experimentalsys.Errno { return open(f, "ok", experimentalsys.O_RDONLY) }, 0},
		{"open symlink inside", func() experimentalsys.Errno { return open(f, "inside", experimentalsys.O_RDONLY) }, 0},
		{"open abs symlink", func() experimentalsys.Errno { return open(f, "abs", experimentalsys.O_RDONLY) }, experimentalsys.EPERM},
		{"open rel symlink", func() experimentalsys.Errno { return open(f, "rel", experimentalsys.O_RDONLY) }, experimentalsys.EPERM},
		{"open through dir link", func() experimentalsys.Errno { return open(f, "dirlink/secret", experimentalsys.O_RDONLY) }, experimentalsys.EPERM},
		{"create through dir link", func() experimentalsys.Errno {
			return open(f, "dirlink/new", experimentalsys.O_CREAT|experimentalsys.O_WRONLY)
		}, experimentalsys.EPERM},
		{"create through dangling link", func() experimentalsys.Errno {
			return open(f, "dangling", experimentalsys.O_CREAT|experimentalsys.O_WRONLY)
		}, experimentalsys.EPERM},
		{"dot-dot", func() experimentalsys.Errno { return open(f, "../outside/secret", experimentalsys.O_RDONLY) }, experimentalsys.EPERM},
		{"stat rel symlink", func() experimentalsys.Errno { _, e := f.Stat("rel"); return e }, experimentalsys.EPERM},
		{"lstat rel symlink is fine", func() experimentalsys.Errno { _, e := f.Lstat("rel"); return e }, 0},
		{"symlink refused", func() experimentalsys.Errno { return f.Symlink("ok", "new") }, experimentalsys.EPERM},
		{"mkdir through link", func() experimentalsys.Errno { return f.Mkdir("dirlink/d", 0o755) }, experimentalsys.EPERM},
		{"mkdir inside", func() experimentalsys.Errno { return f.Mkdir("sub/d", 0o755) }, 0},
		{"rename into link", func() experimentalsys.Errno { return f.Rename("ok", "dirlink/stolen") }, experimentalsys.EPERM},
		{"link into link", func() experimentalsys.Errno { return f.Link("ok", "dirlink/l") }, experimentalsys.EPERM},
		{"unlink through link", func() experimentalsys.Errno { return f.Unlink("dirlink/secret") }, experimentalsys.EPERM},
		{"rmdir through link", func() experimentalsys.Errno { return f.Rmdir("dirlink/x") }, experimentalsys.EPERM},
		{"chmod rel symlink", func() experimentalsys.Errno { return f.Chmod("rel", 0o777) }, experimentalsys.EPERM},
		{"utimens rel symlink", func() experimentalsys.Errno { return f.Utimens("rel", 0, 0) }, experimentalsys.EPERM},
		{"readlink through link", func() experimentalsys.Errno { _, e := f.Readlink("dirlink/x"); return e }, experimentalsys.EPERM},
		{"readlink inside", func() experimentalsys.Errno { _, e := f.Readlink("rel"); return e }, 0},
	}
	for _, tt := range tests {
		if got := tt.op(); got != tt.want {
			t.Errorf("%s: errno %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !os.IsNotExist(err) {
		t.Fatal("a file was created outside the root")
	}
}

func TestReadOnly(t *testing.T) {
	root, _ := setup(t)
	f, err := New(root, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []experimentalsys.Oflag{experimentalsys.O_WRONLY, experimentalsys.O_RDWR,
		experimentalsys.O_RDONLY | experimentalsys.O_CREAT, experimentalsys.O_RDONLY | experimentalsys.O_TRUNC} {
		if e := open(f, "ok", flag); e != experimentalsys.EROFS {
			t.Errorf("flag %v: %v", flag, e)
		}
	}
	if e := open(f, "ok", experimentalsys.O_RDONLY); e != 0 {
		t.Fatal(e)
	}
	if e := f.Mkdir("d", 0o755); e != experimentalsys.EROFS {
		t.Fatal(e)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("/nonexistent/dir", false); err == nil {
		t.Fatal("missing dir accepted")
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file, false); err == nil {
		t.Fatal("file accepted as dir")
	}
}

func open(f *FS, p string, flag experimentalsys.Oflag) experimentalsys.Errno {
	file, e := f.OpenFile(p, flag, 0o644)
	if e == 0 {
		file.Close()
	}
	return e
}
