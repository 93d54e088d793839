package trigger

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// watchFn is a local function watching dir.
func watchFn(name, dir string) Function {
	fn := httpFn(name, "/"+name)
	fn.Local, fn.MaxPrice, fn.DailyCap = true, nil, nil
	fn.Triggers = []Trigger{{Kind: KindWatch, Dir: dir}}
	return fn
}

type watchEnv struct {
	*svcEnv
	store fileStore
	dir   string
}

func newWatchEnv(t *testing.T) *watchEnv {
	e := &watchEnv{svcEnv: newSvcEnv(t), store: fileStore{openStore(t)}, dir: t.TempDir()}
	e.opts.Files = e.store
	e.local.out = Output{Provider: LocalProvider, ResultCID: fnCID}
	return e
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cidOf is the CID the store gives data (what `cloudless publish` prints).
func (e *watchEnv) cidOf(t testing.TB, data string) string {
	c, err := e.store.AddBytes(context.Background(), []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitResult polls the results file (written by the trigger on a real
// file system) until name is in it.
func waitResult(t testing.TB, dir, fn, name string) WatchResult {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond) // polling a real file system, with a deadline
	defer tick.Stop()
	for {
		m, err := WatchResults(dir, fn)
		if err == nil {
			if r, ok := m[name]; ok {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no result for %s after 10s (%v, %v)", name, m, err)
		}
		<-tick.C
	}
}

func TestWatchNewFiles(t *testing.T) {
	e := newWatchEnv(t)
	// A file already there at deploy runs; hidden files and folders do not.
	writeFile(t, filepath.Join(e.dir, "before.txt"), "before")
	writeFile(t, filepath.Join(e.dir, ".hidden"), "x")
	if err := os.Mkdir(filepath.Join(e.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{watchFn("ingest", e.dir)}); err != nil {
		t.Fatal(err)
	}
	c := e.local.next(t)
	wantCID := e.cidOf(t, "before")
	if c.inv.Trigger != KindWatch || c.inv.Detail != filepath.Join(e.dir, "before.txt") ||
		len(c.inv.Inputs) != 1 || c.inv.Inputs[0].CID != wantCID || c.inv.Inputs[0].Path != InputPath ||
		c.inv.Env["INPUT_NAME"] != "before.txt" || c.inv.Env["INPUT_CID"] != wantCID {
		t.Fatalf("invocation %+v", c.inv)
	}
	r := waitResult(t, e.dir, "ingest", "before.txt")
	if r.InputCID != wantCID || r.OutputCID != fnCID || r.JobID == "" {
		t.Fatalf("result %+v", r)
	}

	// Written in place, in several writes: one run once it settles.
	f, err := os.Create(filepath.Join(e.dir, "direct.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"a", "b", "c"} {
		if _, err := f.WriteString(part); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	c = e.local.next(t)
	if c.inv.Env["INPUT_NAME"] != "direct.txt" || c.inv.Env["INPUT_CID"] != e.cidOf(t, "abc") {
		t.Fatalf("invocation %+v", c.inv)
	}

	// Written under a .part name and renamed in: runs under its final name.
	part := filepath.Join(e.dir, "moved.bin.part")
	writeFile(t, part, "moved")
	if err := os.Rename(part, filepath.Join(e.dir, "moved.bin")); err != nil {
		t.Fatal(err)
	}
	c = e.local.next(t)
	if c.inv.Env["INPUT_NAME"] != "moved.bin" || c.inv.Env["INPUT_CID"] != e.cidOf(t, "moved") {
		t.Fatalf("invocation %+v", c.inv)
	}
	waitResult(t, e.dir, "ingest", "moved.bin")
	if n := e.local.count(); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}

	// After a restart nothing runs again: the next new file is the next
	// run (the worker takes files in order, so a re-run would come first).
	s.Close()
	s = e.open(t)
	writeFile(t, filepath.Join(e.dir, "after.txt"), "after")
	c = e.local.next(t)
	if c.inv.Env["INPUT_NAME"] != "after.txt" {
		t.Fatalf("after restart ran %s", c.inv.Env["INPUT_NAME"])
	}
	// A file rewritten with new content runs again.
	waitResult(t, e.dir, "ingest", "after.txt")
	writeFile(t, filepath.Join(e.dir, "before.txt"), "before, edited")
	c = e.local.next(t)
	if c.inv.Env["INPUT_NAME"] != "before.txt" || c.inv.Env["INPUT_CID"] != e.cidOf(t, "before, edited") {
		t.Fatalf("rewrite: %+v", c.inv)
	}
	// The run is seen before its log and result are written: wait for
	// the result of the new content, which is written after the log.
	edited := e.cidOf(t, "before, edited")
	deadline := time.Now().Add(10 * time.Second)
	for waitResult(t, e.dir, "ingest", "before.txt").InputCID != edited {
		if time.Now().After(deadline) {
			t.Fatal("no result for the rewritten before.txt after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	m, err := WatchResults(e.dir, "ingest")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".hidden", "sub", "moved.bin.part"} {
		if _, ok := m[name]; ok {
			t.Errorf("%s was run", name)
		}
	}
	logs, _ := s.Logs("ingest", 0)
	if len(logs) != 5 || logs[0].Trigger != KindWatch {
		t.Fatalf("%d log records", len(logs))
	}
}

// TestWatchFailedRetried: a file whose invocation failed is not recorded,
// so the next start runs it again.
func TestWatchFailedRetried(t *testing.T) {
	e := newWatchEnv(t)
	e.local.err = errors.New("sandbox on fire")
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{watchFn("w", e.dir)}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(e.dir, "x.txt"), "x")
	e.local.next(t)
	s.Close()
	if m, _ := WatchResults(e.dir, "w"); len(m) != 0 {
		t.Fatalf("failed run recorded: %v", m)
	}
	e.local.err = nil
	e.open(t)
	if c := e.local.next(t); c.inv.Env["INPUT_NAME"] != "x.txt" {
		t.Fatalf("retry ran %+v", c.inv)
	}
	waitResult(t, e.dir, "w", "x.txt")
}

// TestWatchRemoved: a removed function's watcher stops; the directory's
// state is kept for a redeploy.
func TestWatchRemoved(t *testing.T) {
	e := newWatchEnv(t)
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{watchFn("w", e.dir)}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(e.dir, "1"), "1")
	e.local.next(t)
	waitResult(t, e.dir, "w", "1")
	if err := s.Remove("w"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(e.dir, "2"), "2")
	// Redeploy: 2 (new while removed) runs, 1 does not.
	if err := s.Deploy(context.Background(), []Function{watchFn("w", e.dir)}); err != nil {
		t.Fatal(err)
	}
	if c := e.local.next(t); c.inv.Env["INPUT_NAME"] != "2" {
		t.Fatalf("ran %s", c.inv.Env["INPUT_NAME"])
	}
	waitResult(t, e.dir, "w", "2")
	if e.local.count() != 2 {
		t.Fatalf("%d runs", e.local.count())
	}
}

// TestWatchDirGoneAtStart: a watched directory deleted while the daemon
// was down leaves the function deployed with the error reported.
func TestWatchDirGoneAtStart(t *testing.T) {
	e := newWatchEnv(t)
	dir := filepath.Join(e.dir, "inbox")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := e.open(t)
	if err := s.Deploy(context.Background(), []Function{watchFn("w", dir)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	s = e.open(t)
	st := s.Statuses()
	if len(st) != 1 || len(st[0].Errors) != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestWatchResultsCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, WatchStateDir), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, WatchStateDir, "w.json"), "{not json")
	if _, err := WatchResults(dir, "w"); err == nil {
		t.Fatal("corrupt results accepted")
	}
	e := newWatchEnv(t)
	s := e.open(t)
	err := s.Deploy(context.Background(), []Function{watchFn("w", dir)})
	if !errors.Is(err, ErrBadFunction) || len(s.List()) != 0 {
		t.Fatalf("deploy over corrupt state: %v", err)
	}
}

func TestIgnoredName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.txt": false, "photo.JPG": false, ".x": true, "a~": true, "a.tmp": true, "a.part": true,
		"a.crdownload": true, ".a.swp": true, "part": false,
	} {
		if ignoredName(name) != want {
			t.Errorf("ignoredName(%q) = %v", name, !want)
		}
	}
	if _, err := cid.Decode(fnCID); err != nil {
		t.Fatal(err)
	}
}
