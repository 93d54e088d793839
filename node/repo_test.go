package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitRefusesExistingRepo(t *testing.T) {
	for _, existing := range []string{ConfigFile, KeystoreDir} {
		repo := t.TempDir()
		p := filepath.Join(repo, existing)
		if existing == KeystoreDir {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("mdns: true\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Init(repo, InitOptions{Dev: true})
		if !errors.Is(err, ErrRepoExists) {
			t.Fatalf("%s present: got %v, want ErrRepoExists", existing, err)
		}
		if existing == ConfigFile {
			b, _ := os.ReadFile(p)
			if string(b) != "mdns: true\n" {
				t.Fatal("config overwritten")
			}
		}
	}
}

func TestRepoLock(t *testing.T) {
	repo := t.TempDir()
	l1, err := LockRepo(repo)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockRepo(repo)
	if !errors.Is(err, ErrRepoLocked) {
		t.Fatalf("second lock: %v, want ErrRepoLocked", err)
	}
	if !strings.Contains(err.Error(), "pid") {
		t.Errorf("lock error does not name the holder: %v", err)
	}
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l1.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	l2, err := LockRepo(repo)
	if err != nil {
		t.Fatalf("relock after release: %v", err)
	}
	l2.Close()
}

func TestToken(t *testing.T) {
	repo := t.TempDir()
	tok, err := LoadOrCreateToken(repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 {
		t.Fatalf("token %q: want 32 bytes hex", tok)
	}
	fi, err := os.Stat(filepath.Join(repo, TokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v %v", fi.Mode(), err)
	}
	again, err := LoadOrCreateToken(repo)
	if err != nil || again != tok {
		t.Fatalf("token changed across loads: %q %v", again, err)
	}
	// A token file others can read is tightened.
	os.Chmod(filepath.Join(repo, TokenFile), 0o644)
	if _, err := LoadOrCreateToken(repo); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(filepath.Join(repo, TokenFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode not fixed: %v", fi.Mode())
	}
	// A truncated token is refused, not silently used.
	os.WriteFile(filepath.Join(repo, TokenFile), []byte("abc\n"), 0o600)
	if _, err := LoadOrCreateToken(repo); err == nil {
		t.Fatal("short token accepted")
	}
}
