package p2p

import (
	"bufio"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	gcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/term"
)

// KeystoreDir is the repo subdirectory holding the node key.
const KeystoreDir = "keystore"

// EnvPassphrase is the environment variable ReadPassphrase falls back to.
const EnvPassphrase = "CLOUDLESS_PASSPHRASE"

// Identity is the node's one secp256k1 key seen three ways: as an Ethereum
// key, as a libp2p private key, and as the peer ID and address derived from
// its public key.
type Identity struct {
	Key     *ecdsa.PrivateKey
	PrivKey crypto.PrivKey
	PeerID  peer.ID
	Address common.Address
}

// NewIdentity wraps an existing secp256k1 key.
//
// # Errors
//
// ErrKey when the key is not on secp256k1.
func NewIdentity(key *ecdsa.PrivateKey) (*Identity, error) {
	if key == nil || key.Curve != gcrypto.S256() {
		return nil, fmt.Errorf("%w: not a secp256k1 key", ErrKey)
	}
	priv, err := crypto.UnmarshalSecp256k1PrivateKey(gcrypto.FromECDSA(key))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return &Identity{Key: key, PrivKey: priv, PeerID: id, Address: gcrypto.PubkeyToAddress(key.PublicKey)}, nil
}

// GenerateIdentity makes a fresh identity that is not stored anywhere (for
// tests and simulations).
func GenerateIdentity() (*Identity, error) {
	key, err := gcrypto.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("p2p: generate key: %w", err)
	}
	return NewIdentity(key)
}

// CreateIdentity generates a key and writes it to repoDir/keystore in
// go-ethereum's encrypted keystore format (file mode 0600), encrypted with
// passphrase (empty allowed for dev). light selects the fast scrypt
// parameters (LightScryptN/P) for --dev and tests; otherwise
// StandardScryptN/P.
//
// # Errors
//
// ErrIdentityExists when the keystore already holds a key; I/O errors.
func CreateIdentity(repoDir, passphrase string, light bool) (*Identity, error) {
	dir := filepath.Join(repoDir, KeystoreDir)
	if files, err := keyFiles(dir); err == nil && len(files) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrIdentityExists, files[0])
	}
	id, err := GenerateIdentity()
	if err != nil {
		return nil, err
	}
	n, p := keystore.StandardScryptN, keystore.StandardScryptP
	if light {
		n, p = keystore.LightScryptN, keystore.LightScryptP
	}
	uid, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("p2p: key id: %w", err)
	}
	blob, err := keystore.EncryptKey(&keystore.Key{Id: uid, Address: id.Address, PrivateKey: id.Key}, passphrase, n, p)
	if err != nil {
		return nil, fmt.Errorf("p2p: encrypt key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("p2p: keystore dir: %w", err)
	}
	// Same name shape as go-ethereum: UTC--<ISO8601>--<address hex>.
	ts := time.Now().UTC().Format("2006-01-02T15-04-05.000000000Z")
	name := filepath.Join(dir, fmt.Sprintf("UTC--%s--%x", ts, id.Address[:]))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, blob, 0o600); err != nil {
		return nil, fmt.Errorf("p2p: write key: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("p2p: write key: %w", err)
	}
	return id, nil
}

// LoadIdentity decrypts the key in repoDir/keystore.
//
// # Errors
//
// ErrNoIdentity when the keystore is missing or empty; ErrManyKeys when it
// holds more than one key; ErrPassphrase when the passphrase is wrong;
// ErrKey when the file is not a secp256k1 keystore key.
func LoadIdentity(repoDir, passphrase string) (*Identity, error) {
	dir := filepath.Join(repoDir, KeystoreDir)
	files, err := keyFiles(dir)
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%w in %s (run `cloudless init`)", ErrNoIdentity, dir)
	}
	if len(files) > 1 {
		return nil, fmt.Errorf("%w: %d key files in %s", ErrManyKeys, len(files), dir)
	}
	blob, err := readCapped(files[0], 64<<10)
	if err != nil {
		return nil, fmt.Errorf("p2p: read key: %w", err)
	}
	k, err := keystore.DecryptKey(blob, passphrase)
	if err != nil {
		if errors.Is(err, keystore.ErrDecrypt) {
			return nil, fmt.Errorf("%w for %s", ErrPassphrase, files[0])
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrKey, files[0], err)
	}
	return NewIdentity(k.PrivateKey)
}

// keyFiles lists regular, non-hidden, non-temporary files in dir.
func keyFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".tmp") || strings.HasSuffix(n, "~") {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	return out, nil
}

func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

// AddressOf returns the Ethereum address of the secp256k1 key embedded in a
// peer ID, so a message signed by that peer is attributable to an account.
//
// # Errors
//
// ErrKey when the peer ID does not embed a secp256k1 public key (for example
// an Ed25519 or RSA peer).
func AddressOf(id peer.ID) (common.Address, error) {
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %s: %v", ErrKey, id, err)
	}
	return AddressOfKey(pk)
}

// AddressOfKey returns the Ethereum address of a libp2p secp256k1 public key.
func AddressOfKey(pk crypto.PubKey) (common.Address, error) {
	sk, ok := pk.(*crypto.Secp256k1PublicKey)
	if !ok {
		return common.Address{}, fmt.Errorf("%w: %T is not secp256k1", ErrKey, pk)
	}
	raw, err := sk.Raw() // 33-byte compressed point
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrKey, err)
	}
	pub, err := gcrypto.DecompressPubkey(raw)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return gcrypto.PubkeyToAddress(*pub), nil
}

// ReadPassphrase resolves the keystore passphrase the way every command
// does: the first line of file when file is non-empty, else the
// CLOUDLESS_PASSPHRASE environment variable when set (even empty), else a
// prompt on the terminal (asked twice when confirm is set).
//
// # Errors
//
// ErrNoPassphrase when there is no file, no environment variable and no
// terminal; ErrPassphraseMismatch when the confirmation differs.
func ReadPassphrase(file string, confirm bool) (string, error) {
	if file != "" {
		b, err := readCapped(file, 4<<10)
		if err != nil {
			return "", fmt.Errorf("p2p: passphrase file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	if v, ok := os.LookupEnv(EnvPassphrase); ok {
		return v, nil
	}
	return promptPassphrase(confirm)
}

func promptPassphrase(confirm bool) (string, error) {
	var (
		in  *os.File
		out io.Writer = os.Stderr
	)
	if term.IsTerminal(int(os.Stdin.Fd())) {
		in = os.Stdin
	} else {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return "", fmt.Errorf("%w (use --passphrase-file or $%s)", ErrNoPassphrase, EnvPassphrase)
		}
		defer tty.Close()
		in, out = tty, tty
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(out, prompt)
		defer fmt.Fprintln(out)
		if term.IsTerminal(int(in.Fd())) {
			b, err := term.ReadPassword(int(in.Fd()))
			return string(b), err
		}
		line, err := bufio.NewReader(io.LimitReader(in, 4<<10)).ReadString('\n')
		if err != nil && line == "" {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	p, err := ask("Passphrase: ")
	if err != nil {
		return "", fmt.Errorf("p2p: read passphrase: %w", err)
	}
	if confirm {
		p2, err := ask("Repeat passphrase: ")
		if err != nil {
			return "", fmt.Errorf("p2p: read passphrase: %w", err)
		}
		if p != p2 {
			return "", ErrPassphraseMismatch
		}
	}
	return p, nil
}
