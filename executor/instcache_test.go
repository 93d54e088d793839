package executor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// compileIn compiles module with a fresh Executor on the cache dir and
// returns it (closed at cleanup).
func compileIn(t *testing.T, dir string, module []byte) *Executor {
	t.Helper()
	e := newExecutor(t, WithCacheDir(dir))
	if _, err := e.Compile(context.Background(), module); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestInstCacheDamaged: a stored instrumented module whose checksum does
// not match, or that wazero refuses, is never run: the module is
// instrumented again, the file replaced, and the deadline still stops it.
func TestInstCacheDamaged(t *testing.T) {
	loop := fixture(t, "loop")
	h := Hash(sha256.Sum256(loop))
	for _, tt := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"flipped byte", func(b []byte) []byte { b[len(b)-3] ^= 0x40; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func([]byte) []byte { return nil }},
		// A valid checksum over bytes wazero refuses: the retry path.
		{"not a module", func([]byte) []byte { return []byte{0, 0, 0, 0} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			e1 := compileIn(t, dir, loop)
			p := e1.inst.path(h)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tt.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			e2 := compileIn(t, dir, loop)
			if n := e2.instrs.Load(); n != 1 {
				t.Fatalf("instrumented %d times, want 1", n)
			}
			if got, _ := e2.inst.get(h); got == nil {
				t.Fatal("the damaged file was not replaced")
			}
			res, err := run(t, e2, Spec{Module: loop, Limits: Limits{Timeout: 20 * time.Millisecond}})
			if !errors.Is(err, ErrDeadline) || res == nil {
				t.Fatalf("err %v", err)
			}
			e2.mu.Lock()
			instrumented := e2.modules[h].instrumented
			e2.mu.Unlock()
			if !instrumented {
				t.Fatal("fell back to the uninstrumented module")
			}
		})
	}
}

// TestInstCacheVersions: New removes the stored modules of other
// instrumenter versions, and an unwritable directory only costs the
// re-instrumenting.
func TestInstCacheVersions(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, instDirPrefix+"1")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	e := compileIn(t, dir, fixture(t, "tool"))
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("old version's dir kept: %v", err)
	}
	if err := e.inst.put(Hash{1}, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.inst.get(Hash{1}); string(got) != "x" {
		t.Fatal("round trip")
	}
	if err := os.RemoveAll(e.inst.dir); err != nil {
		t.Fatal(err)
	}
	if err := e.inst.put(Hash{2}, []byte("x")); err == nil {
		t.Fatal("put into a missing dir succeeded")
	}
	// Compiling still works without the directory.
	if _, err := e.Compile(context.Background(), fixture(t, "nop")); err != nil {
		t.Fatal(err)
	}
}

// TestWazeroCacheDamaged: a damaged entry in wazero's own disk cache
// (which wazero v1.12 reports as a compile error every time, leaving the
// file in place) is removed and the module compiled again, instrumented,
// with one warning line; it never crashes the process or sends the module
// to the slow fallback runtime.
func TestWazeroCacheDamaged(t *testing.T) {
	loop := fixture(t, "loop")
	h := Hash(sha256.Sum256(loop))
	// execStart is where the machine code starts in wazero's entry:
	// magic, version, function count, offsets, code length (engine_cache.go).
	execStart := func(b []byte) int {
		hdr := 6 + 1 + int(b[6]) + 4
		n := int(binary.LittleEndian.Uint32(b[hdr-4:]))
		return hdr + 8*n + 8
	}
	for _, tt := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func([]byte) []byte { return nil }},
		{"bad magic", func(b []byte) []byte { b[0] ^= 0xff; return b }},
		{"flipped code byte", func(b []byte) []byte { b[execStart(b)+3] ^= 0x40; return b }},
		{"no checksum", func(b []byte) []byte {
			n := binary.LittleEndian.Uint64(b[execStart(b)-8:])
			return b[:execStart(b)+int(n)]
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			compileIn(t, dir, loop)
			entries, _ := filepath.Glob(filepath.Join(dir, "wazero-*", "*"))
			if len(entries) != 1 {
				t.Fatalf("wazero cache entries %v, want one", entries)
			}
			good, err := os.ReadFile(entries[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(entries[0], tt.damage(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			e2 := newExecutor(t, WithCacheDir(dir),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
			if _, err := e2.Compile(context.Background(), loop); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 ||
				!strings.Contains(logs.String(), "compilation cache entry unreadable") {
				t.Fatalf("want one warning line, got %q", logs.String())
			}
			if got, err := os.ReadFile(entries[0]); err != nil || !bytes.Equal(got, good) {
				t.Fatalf("entry not rewritten: %v", err)
			}
			e2.mu.Lock()
			instrumented := e2.modules[h].instrumented
			e2.mu.Unlock()
			if !instrumented {
				t.Fatal("fell back to the uninstrumented module")
			}
			res, err := run(t, e2, Spec{Module: loop, Limits: Limits{Timeout: 20 * time.Millisecond}})
			if !errors.Is(err, ErrDeadline) || res == nil {
				t.Fatalf("err %v", err)
			}
		})
	}
}

// TestInstCacheDamagedLogs: a damaged stored instrumented module costs one
// warning line.
func TestInstCacheDamagedLogs(t *testing.T) {
	loop := fixture(t, "loop")
	dir := t.TempDir()
	e1 := compileIn(t, dir, loop)
	p := e1.inst.path(Hash(sha256.Sum256(loop)))
	if err := os.Truncate(p, 10); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	e2 := newExecutor(t, WithCacheDir(dir),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if _, err := e2.Compile(context.Background(), loop); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "damaged") {
		t.Fatalf("want one warning line, got %q", logs.String())
	}
}
