package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// writeMemTree lays fs out under dir as a job's output would be on disk.
func writeMemTree(t *testing.T, dir string, fs []MemFile) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if f.Dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree lists the files (path → bytes) and directories under dir.
func readTree(t *testing.T, dir string) (map[string]string, []string) {
	t.Helper()
	files := map[string]string{}
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			dirs = append(dirs, filepath.ToSlash(rel))
			return nil
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, dirs
}

func TestAddFilesSameCIDAsAddPath(t *testing.T) {
	ctx := context.Background()
	many := make([]MemFile, 0, 3000)
	for i := range 3000 { // names long enough to make out/ a HAMT shard
		many = append(many, MemFile{Path: fmt.Sprintf("out/%s-%04d", strings.Repeat("n", 90), i), Data: []byte{byte(i)}})
	}
	trees := map[string][]MemFile{
		"empty root":  nil,
		"job output":  {{Path: "stdout", Data: []byte("hello\n")}, {Path: "stderr"}, {Path: "out", Dir: true}},
		"empty files": {{Path: "stdout", Data: []byte{}}, {Path: "stderr"}, {Path: ".hidden"}},
		"big file":    {{Path: "stdout", Data: randBytes(ChunkSize*2+123, 7)}, {Path: "out", Dir: true}},
		"many chunks": {{Path: "f", Data: randBytes(ChunkSize*(LinksPerNode+2), 8)}},
		"nested": {
			{Path: "stdout", Data: []byte("x")}, {Path: "out/a/b/c.txt", Data: []byte("deep")},
			{Path: "out/a/empty", Dir: true}, {Path: "out/z", Data: []byte("z")}, {Path: "out/a", Dir: true},
			{Path: "out/B", Data: []byte("upper sorts first")},
		},
		"hamt": many,
	}
	mem := openTestStore(t, nil)
	disk := openTestStore(t, nil)
	for name, fs := range trees {
		t.Run(name, func(t *testing.T) {
			if name == "many chunks" && testing.Short() {
				t.Skip("45 MB import")
			}
			dir := filepath.Join(t.TempDir(), "tree")
			writeMemTree(t, dir, fs)
			want, err := disk.AddPath(ctx, dir, WithHidden(true))
			if err != nil {
				t.Fatal(err)
			}
			got, err := mem.AddFiles(ctx, fs)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("AddFiles CID %s, AddPath of the same tree %s", got, want)
			}
			pins, err := mem.Pins(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(pins, got) {
				t.Fatalf("root %s not pinned", got)
			}
			// every block is in mem's store: Get writes the same tree back
			out := filepath.Join(t.TempDir(), "get")
			if err := mem.Get(ctx, got, out, 0, nil); err != nil {
				t.Fatal(err)
			}
			wf, wd := readTree(t, dir)
			gf, gd := readTree(t, out)
			if !maps2Equal(wf, gf) || !slices.Equal(wd, gd) {
				t.Fatalf("Get gave %d files %v dirs, want %d files %v dirs", len(gf), gd, len(wf), wd)
			}
		})
	}
}

func maps2Equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAddFilesReadFile(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	data := randBytes(ChunkSize+1, 3)
	root, err := s.AddFiles(ctx, []MemFile{{Path: "stdout", Data: data}}, WithPin(false))
	if err != nil {
		t.Fatal(err)
	}
	file, err := s.AddBytes(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := s.Has(ctx, root); err != nil || !has {
		t.Fatalf("root block stored: %v %v", has, err)
	}
	b, err := s.ReadFile(ctx, file, 0)
	if err != nil || string(b) != string(data) {
		t.Fatalf("ReadFile: %d bytes, %v", len(b), err)
	}
	pins, _ := s.Pins(ctx)
	if slices.Contains(pins, root) {
		t.Fatal("WithPin(false) pinned the root")
	}
}

func TestAddFilesRefusesBadPaths(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	for _, fs := range [][]MemFile{
		{{Path: ""}}, {{Path: "/abs"}}, {{Path: "../up"}}, {{Path: "a/../b"}}, {{Path: "a//b"}},
		{{Path: "./a"}}, {{Path: "."}}, {{Path: "a/"}}, {{Path: "a\x00b"}},
		{{Path: "a"}, {Path: "a"}},
		{{Path: "a"}, {Path: "a/b"}},
		{{Path: "a/b"}, {Path: "a"}},
		{{Path: "a", Dir: true}, {Path: "a"}},
	} {
		if c, err := s.AddFiles(ctx, fs); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("AddFiles(%+v) = %s, %v; want ErrUnsafePath", fs, c, err)
		}
	}
}

func TestAddFilesClosed(t *testing.T) {
	s := openTestStore(t, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := s.AddFiles(context.Background(), nil); !errors.Is(err, ErrClosed) || c != cid.Undef {
		t.Fatalf("after Close: %s, %v", c, err)
	}
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU per op since c0 (robust to a loaded
// machine, unlike ns/op).
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64((processCPU()-c0).Microseconds())/float64(b.N), "cpu-us/op")
}

// BenchmarkAddFilesJobOutput imports a small job's output (stdout,
// empty stderr, empty out/) from memory; pin-fetch pins it as AddPath
// does, reading the DAG back.
func BenchmarkAddFilesJobOutput(b *testing.B) {
	for _, fetch := range []bool{false, true} {
		name := "pin-no-fetch"
		if fetch {
			name = "pin-fetch"
		}
		b.Run(name, func(b *testing.B) {
			memPinFetch = fetch
			defer func() { memPinFetch = false }()
			ctx := context.Background()
			s := openTestStore(b, nil)
			c0 := processCPU()
			for i := 0; b.Loop(); i++ {
				fs := []MemFile{{Path: "stdout", Data: fmt.Appendf(nil, "hello %d\n", i)}, {Path: "stderr"}, {Path: "out", Dir: true}}
				if _, err := s.AddFiles(ctx, fs); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, c0)
		})
	}
}

// TestAddFilesPinSurvivesGC: the recursive pin AddFiles records (without
// reading the DAG back) keeps every block through GC, and Unpin of it
// works as for any recursive pin.
func TestAddFilesPinSurvivesGC(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	fs := []MemFile{{Path: "stdout", Data: randBytes(ChunkSize+7, 11)}, {Path: "out/a/b", Data: []byte("b")}}
	root, err := s.AddFiles(ctx, fs)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := s.PinList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pl, Pin{Cid: root, Recursive: true}) {
		t.Fatalf("pins %v, want %s recursive", pl, root)
	}
	if _, err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, root, filepath.Join(t.TempDir(), "g"), 0, nil); err != nil {
		t.Fatalf("after GC: %v", err)
	}
	if err := s.Unpin(ctx, root, true); err != nil {
		t.Fatal(err)
	}
	n, err := s.GC(ctx)
	if err != nil || n == 0 {
		t.Fatalf("GC after Unpin removed %d blocks: %v", n, err)
	}
	if has, _ := s.Has(ctx, root); has {
		t.Fatal("root kept after Unpin and GC")
	}
}

// BenchmarkAddPathJobOutput is what BenchmarkAddFilesJobOutput replaces:
// a job's output laid out on the memory file system (as market's layout
// does without a FilesAdder), imported with AddPath, removed.
func BenchmarkAddPathJobOutput(b *testing.B) {
	ctx := context.Background()
	s := openTestStore(b, nil)
	base := "/dev/shm"
	if _, err := os.Stat(base); err != nil {
		base = b.TempDir()
	}
	c0 := processCPU()
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(base, fmt.Sprintf("cloudless-bench-%d-%d", os.Getpid(), i))
		if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stdout"), fmt.Appendf(nil, "hello %d\n", i), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stderr"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddPath(ctx, dir, WithHidden(true)); err != nil {
			b.Fatal(err)
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
}

// TestAddFilesConcurrent: concurrent imports (a provider's parallel jobs)
// each get their pin and their blocks.
func TestAddFilesConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	const n = 16
	roots := make([]cid.Cid, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			c, err := s.AddFiles(ctx, []MemFile{{Path: "stdout", Data: fmt.Appendf(nil, "job %d", i)}, {Path: "stderr"}, {Path: "out", Dir: true}})
			roots[i] = c
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	pins, err := s.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range roots {
		if !slices.Contains(pins, c) {
			t.Fatalf("job %d root %s not pinned", i, c)
		}
		out := filepath.Join(t.TempDir(), "g")
		if err := s.Get(ctx, c, out, 0, nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "stdout")); string(b) != fmt.Sprintf("job %d", i) {
			t.Fatalf("job %d stdout %q", i, b)
		}
	}
}
