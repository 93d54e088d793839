package market

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudless-network/cloudless/executor"
)

// collectOutput over bytes in memory gives what readOutput gives over the
// same output on disk: the hash and the inline files.
func TestCollectOutputMatchesReadOutput(t *testing.T) {
	for _, tc := range []struct {
		name           string
		stdout, stderr []byte
		outs           map[string]string
		keep           int
	}{
		{"empty", nil, nil, nil, inlineMax},
		{"stdout only", []byte("hello\n"), nil, nil, inlineMax},
		{"files", []byte("a"), []byte("b"), map[string]string{"x.txt": "1", "d/y.txt": "22", "d/e/z": ""}, inlineMax},
		{"too big to keep", []byte(strings.Repeat("x", 100)), nil, map[string]string{"f": "y"}, 50},
		{"never keep", []byte("a"), nil, nil, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, OutDirName), 0o755); err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(filepath.Join(dir, StdoutName), tc.stdout, 0o644)
			_ = os.WriteFile(filepath.Join(dir, StderrName), tc.stderr, 0o644)
			for name, data := range tc.outs {
				p := filepath.Join(dir, OutDirName, filepath.FromSlash(name))
				_ = os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantH, wantIn, err := readOutput(dir, 3, tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			names, outs, err := readOutFiles(filepath.Join(dir, OutDirName), nil)
			if err != nil {
				t.Fatal(err)
			}
			h, in := collectOutput(3, tc.stdout, tc.stderr, names, outs, tc.keep)
			if h != wantH || len(in) != len(wantIn) {
				t.Fatalf("hash %x inline %d files; want %x, %d files", h, len(in), wantH, len(wantIn))
			}
			for i := range in {
				if in[i].Path != wantIn[i].Path || !bytes.Equal(in[i].Data, wantIn[i].Data) || in[i].Data == nil {
					t.Fatalf("inline %d: %q %q, want %q %q", i, in[i].Path, in[i].Data, wantIn[i].Path, wantIn[i].Data)
				}
			}
			if in != nil && inlineHash(3, in) != h {
				t.Fatal("inline files do not hash to the output hash")
			}
		})
	}
}

// The module cache keeps at most moduleCacheBytes, oldest out first, and
// never a module bigger than a quarter of it.
func TestModCacheEvicts(t *testing.T) {
	var c modCache
	quarter := moduleCacheBytes / 4
	for i, cid := range []string{"a", "b", "c", "d", "e"} {
		c.put(cid, &module{b: make([]byte, quarter-i)})
	}
	if c.get("a") != nil || c.get("e") == nil || c.get("b") == nil || c.size > moduleCacheBytes {
		t.Fatalf("after five puts: a %v, b %v, e %v, size %d", c.get("a") != nil, c.get("b") != nil, c.get("e") != nil, c.size)
	}
	c.put("big", &module{b: make([]byte, quarter+1)})
	if c.get("big") != nil {
		t.Fatal("a module over a quarter of the cache was kept")
	}
}

// countCat is a Content that counts Cat calls.
type countCat struct {
	Content
	calls int
	b     []byte
}

func (c *countCat) Cat(ctx context.Context, cid string, max int64) ([]byte, error) {
	c.calls++
	if int64(len(c.b)) > max {
		return nil, executor.ErrModuleTooLarge
	}
	return c.b, nil
}

// cachedContent fetches a module once, knows its hash and whether it
// needs files, and still refuses it over a job's size limit.
func TestCachedContentModule(t *testing.T) {
	src := &countCat{b: []byte("\x00asm\x01\x00\x00\x00")}
	cc := cachedContent{src, &modCache{}}
	for range 3 {
		m, err := cc.module(context.Background(), "cid", 100)
		if err != nil || m.hash != executor.HashModule(src.b) || m.files {
			t.Fatalf("module: %+v %v", m, err)
		}
	}
	if src.calls != 1 {
		t.Fatalf("%d fetches of a cached module", src.calls)
	}
	if _, err := cc.module(context.Background(), "cid", 4); err == nil {
		t.Fatal("a cached module over the limit was returned")
	}
}

// layout: an output that ran without a /out is laid out afresh (on the
// memory file system for a provider on the default WorkDir), and the
// cleanup removes it; one with a /out gets stdout and stderr beside it.
func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workDir string
		withOut bool
	}{
		{"memory", os.TempDir(), false},
		{"work dir", t.TempDir(), false},
		{"with out", t.TempDir(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{cfg: ProviderConfig{WorkDir: tc.workDir}}
			x := &execution{stdout: []byte("out"), stderr: []byte("err")}
			work := scratchName(tc.workDir)
			defer os.RemoveAll(work)
			if tc.withOut {
				x.outDir = filepath.Join(work, "result", OutDirName)
				if err := os.MkdirAll(x.outDir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			root, cleanup, err := p.layout(x, work)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.withOut && root != filepath.Join(work, "result"):
				t.Fatalf("root %s, want beside /out", root)
			case tc.name == "memory" && memDir() != "" && !strings.HasPrefix(root, memDir()):
				t.Fatalf("root %s, want under %s", root, memDir())
			case tc.name == "work dir" && !strings.HasPrefix(root, tc.workDir):
				t.Fatalf("root %s, want under %s", root, tc.workDir)
			}
			h, _, err := readOutput(root, 0, -1)
			if err != nil || h != hashOutput(0, x.stdout, x.stderr, nil, nil) {
				t.Fatalf("laid out output hashes %x (%v)", h, err)
			}
			cleanup()
			if _, err := os.Stat(root); tc.withOut == os.IsNotExist(err) {
				t.Fatalf("after cleanup: %v (with out: the run's work dir is the caller's)", err)
			}
		})
	}
}

// filesContent records AddFiles and AddDir calls.
type filesContent struct {
	Content
	files []MemFile
	dirs  []string
}

func (f *filesContent) AddFiles(ctx context.Context, files []MemFile) (string, error) {
	f.files = files
	return "from-memory", nil
}

func (f *filesContent) AddDir(ctx context.Context, dir string) (string, error) {
	f.dirs = append(f.dirs, dir)
	return "from-dir", nil
}

// addOutput imports an output that ran without a /out from memory when
// Content is a FilesAdder (stdout, stderr and the empty out/), and one
// with a /out from its directory.
func TestAddOutputFromMemory(t *testing.T) {
	fc := &filesContent{}
	p := &Provider{d: ProviderDeps{Content: fc}, cfg: ProviderConfig{WorkDir: t.TempDir()}}
	x := &execution{stdout: []byte("o"), stderr: []byte("e")}
	work := scratchName(p.cfg.WorkDir)
	c, err := p.addOutput(context.Background(), x, work)
	if err != nil || c != "from-memory" || len(fc.dirs) != 0 {
		t.Fatalf("no /out: %q %v, AddDir calls %v", c, err, fc.dirs)
	}
	want := []MemFile{{Path: StdoutName, Data: []byte("o")}, {Path: StderrName, Data: []byte("e")}, {Path: OutDirName, Dir: true}}
	if len(fc.files) != len(want) {
		t.Fatalf("files %+v, want %+v", fc.files, want)
	}
	for i := range want {
		if fc.files[i].Path != want[i].Path || !bytes.Equal(fc.files[i].Data, want[i].Data) || fc.files[i].Dir != want[i].Dir {
			t.Fatalf("file %d: %+v, want %+v", i, fc.files[i], want[i])
		}
	}
	if ents, _ := os.ReadDir(p.cfg.WorkDir); len(ents) != 0 {
		t.Fatalf("work dir holds %v", ents)
	}
	x.outDir = filepath.Join(work, "result", OutDirName)
	if err := os.MkdirAll(x.outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if c, err := p.addOutput(context.Background(), x, work); err != nil || c != "from-dir" || len(fc.dirs) != 1 {
		t.Fatalf("with /out: %q %v, AddDir calls %v", c, err, fc.dirs)
	}
}
