package p2p

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	gcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestCreateLoadIdentity(t *testing.T) {
	repo := t.TempDir()
	id, err := CreateIdentity(repo, "secret", true)
	if err != nil {
		t.Fatal(err)
	}
	if id.Address != gcrypto.PubkeyToAddress(id.Key.PublicKey) {
		t.Fatal("address does not match key")
	}
	addr, err := AddressOf(id.PeerID)
	if err != nil || addr != id.Address {
		t.Fatalf("AddressOf(peer) = %s, %v; want %s", addr, err, id.Address)
	}
	files, _ := filepath.Glob(filepath.Join(repo, KeystoreDir, "UTC--*"))
	if len(files) != 1 {
		t.Fatalf("keystore files: %v", files)
	}
	if st, _ := os.Stat(files[0]); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode())
	}
	got, err := LoadIdentity(repo, "secret")
	if err != nil {
		t.Fatal(err)
	}
	if got.PeerID != id.PeerID || got.Address != id.Address || !got.PrivKey.Equals(id.PrivKey) {
		t.Fatal("loaded identity differs")
	}
	if _, err := LoadIdentity(repo, "wrong"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := CreateIdentity(repo, "x", true); !errors.Is(err, ErrIdentityExists) {
		t.Fatalf("second create: %v", err)
	}
}

func TestLoadIdentityFailures(t *testing.T) {
	if _, err := LoadIdentity(t.TempDir(), ""); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("empty repo: %v", err)
	}
	repo := t.TempDir()
	if _, err := CreateIdentity(repo, "", true); err != nil {
		t.Fatal(err)
	}
	// Empty passphrase (dev) works.
	if _, err := LoadIdentity(repo, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, KeystoreDir, "UTC--other"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(repo, ""); !errors.Is(err, ErrManyKeys) {
		t.Fatalf("two keys: %v", err)
	}
	bad := t.TempDir()
	_ = os.MkdirAll(filepath.Join(bad, KeystoreDir), 0o700)
	_ = os.WriteFile(filepath.Join(bad, KeystoreDir, "UTC--x"), []byte("not json"), 0o600)
	if _, err := LoadIdentity(bad, ""); !errors.Is(err, ErrKey) {
		t.Fatalf("garbage key: %v", err)
	}
}

func TestAddressOfNonSecp(t *testing.T) {
	_, pub, _ := crypto.GenerateEd25519Key(rand.Reader)
	id, _ := peer.IDFromPublicKey(pub)
	if _, err := AddressOf(id); !errors.Is(err, ErrKey) {
		t.Fatalf("ed25519: %v", err)
	}
	if _, err := AddressOf(peer.ID("garbage")); !errors.Is(err, ErrKey) {
		t.Fatalf("garbage: %v", err)
	}
}

func TestReadPassphrase(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(f, []byte("hunter2\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvPassphrase, "from-env")
	if p, err := ReadPassphrase(f, false); err != nil || p != "hunter2" {
		t.Fatalf("file: %q %v", p, err)
	}
	if p, err := ReadPassphrase("", true); err != nil || p != "from-env" {
		t.Fatalf("env: %q %v", p, err)
	}
	t.Setenv(EnvPassphrase, "")
	if p, err := ReadPassphrase("", false); err != nil || p != "" {
		t.Fatalf("empty env is a passphrase: %q %v", p, err)
	}
	if _, err := ReadPassphrase(filepath.Join(t.TempDir(), "missing"), false); err == nil {
		t.Fatal("missing file accepted")
	}
}
