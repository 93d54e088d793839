package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/cloudless-network/cloudless/node/client"
)

// Files and folders of a node repo (see the repo layout in docs/operating.md).
const (
	ConfigFile   = "config.yaml"
	KeystoreDir  = "keystore"
	APIFile      = client.APIFile
	TokenFile    = client.TokenFile
	LockFile     = "repo.lock"
	ChainFile    = "chain.json"
	StorageDir   = "ipfs"
	WasmCacheDir = "wasm-cache"
	LedgerFile   = "ledger.db"
)

// ConfigPath is the config file of the repo at repoDir.
func ConfigPath(repoDir string) string { return filepath.Join(repoDir, ConfigFile) }

// InitOptions configure Init.
type InitOptions struct {
	// Dev writes a config for several nodes on one machine (port 0
	// everywhere) and uses light key derivation.
	Dev bool
	// Passphrase encrypts the key in the keystore; empty is allowed.
	Passphrase string
	// Config, when set, is written instead of DefaultConfig(Dev).
	Config *Config
}

// Init creates a repo at repoDir: the directory (0700), the node's key in
// keystore/, and a commented config.yaml. It returns the identity's peer ID
// and address.
//
// # Errors
//
// ErrRepoExists when repoDir already holds a config.yaml or a keystore.
func Init(repoDir string, opts InitOptions) (client.ID, error) {
	for _, f := range []string{ConfigFile, KeystoreDir} {
		if _, err := os.Stat(filepath.Join(repoDir, f)); err == nil {
			return client.ID{}, fmt.Errorf("%w at %s (it has %s); use another --repo or remove it first", ErrRepoExists, repoDir, f)
		}
	}
	if err := os.MkdirAll(repoDir, 0o700); err != nil {
		return client.ID{}, fmt.Errorf("create repo: %w", err)
	}
	cfg := DefaultConfig(opts.Dev)
	if opts.Config != nil {
		cfg = *opts.Config
	}
	if err := cfg.Validate(); err != nil {
		return client.ID{}, err
	}
	data, err := cfg.MarshalCommented()
	if err != nil {
		return client.ID{}, fmt.Errorf("render config: %w", err)
	}
	id, err := createIdentity(repoDir, opts.Passphrase, opts.Dev)
	if err != nil {
		return client.ID{}, err
	}
	if err := writeFileAtomic(ConfigPath(repoDir), data, 0o600); err != nil {
		return client.ID{}, fmt.Errorf("write config: %w", err)
	}
	id.Repo = repoDir
	return id, nil
}

// RepoLock is an exclusive lock on a repo, held by the daemon.
type RepoLock struct {
	f *os.File
}

// LockRepo takes the repo's lock file with flock(2). The lock goes away
// with the process, so a crashed daemon never leaves a repo locked.
//
// # Errors
//
// ErrRepoLocked (with the holder's pid) when another process holds it.
func LockRepo(repoDir string) (*RepoLock, error) {
	p := filepath.Join(repoDir, LockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(p)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(b))
			if holder == "" {
				holder = "?"
			}
			return nil, fmt.Errorf("%w: %s is held by another cloudless daemon (pid %s); stop it first or use another --repo", ErrRepoLocked, repoDir, holder)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &RepoLock{f: f}, nil
}

// Close releases the lock. Safe to call twice.
func (l *RepoLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing drops the flock
	l.f = nil
	return err
}

// LoadOrCreateToken returns the repo's API token, creating api.token (0600,
// 32 random bytes in hex) the first time. An existing token is kept so
// clients and browser sessions stay valid across restarts.
func LoadOrCreateToken(repoDir string) (string, error) {
	p := filepath.Join(repoDir, TokenFile)
	b, err := os.ReadFile(p)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < 32 {
			return "", fmt.Errorf("api token in %s is too short; delete the file to get a new one", p)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return "", fmt.Errorf("api token %s is readable by others and chmod failed: %w", p, err)
			}
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read api token: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(p, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write api token: %w", err)
	}
	return tok, nil
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
