package market

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market/wire"
)

// Layout of a job's output directory (its CID is the result):
//
//	stdout   the guest's standard output
//	stderr   the guest's standard error
//	out/     everything the guest wrote under /out
const (
	StdoutName = "stdout"
	StderrName = "stderr"
	OutDirName = "out"
)

// OutputHash is the commitment to a job's output: sha256 over the exit
// code, stdout, stderr and every file under out/ (path and contents, in
// path order), each length-prefixed. Providers that ran the same
// deterministic job get the same hash; the client recomputes it from the
// fetched directory, so a Result cannot claim output it did not store.
func OutputHash(dir string, exitCode int32) ([32]byte, error) {
	h := sha256.New()
	h.Write([]byte("cloudless-output-v1\x00"))
	var n [8]byte
	binary.BigEndian.PutUint32(n[:4], uint32(exitCode))
	h.Write(n[:4])
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range []string{StdoutName, StderrName} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return [32]byte{}, err
		}
		put(b)
	}
	var files []string
	outDir := filepath.Join(dir, OutDirName)
	err := filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == outDir {
				return filepath.SkipDir
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(outDir, p)
			files = append(files, filepath.ToSlash(rel))
		} else if !d.IsDir() {
			return fmt.Errorf("output %s: not a regular file", p)
		}
		return nil
	})
	if err != nil {
		return [32]byte{}, err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(f)))
		if err != nil {
			return [32]byte{}, err
		}
		put([]byte(f))
		put(b)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// AddressOf returns the Ethereum address of a peer whose ID embeds a
// secp256k1 key (every cloudless node).
func AddressOf(p peer.ID) (common.Address, error) {
	pk, err := p.ExtractPublicKey()
	if err != nil {
		return common.Address{}, fmt.Errorf("market: peer %s: %w", p, err)
	}
	raw, err := pk.Raw()
	if err != nil {
		return common.Address{}, err
	}
	pub, err := crypto.DecompressPubkey(raw)
	if err != nil {
		return common.Address{}, fmt.Errorf("market: peer %s is not secp256k1: %w", p, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// jobHash binds an escrow deal to a job: keccak256 of the client's sealed
// JobRequest... over the job ID and the canonical CBOR of its spec.
func jobHash(id [32]byte, specCBOR []byte) common.Hash {
	return crypto.Keccak256Hash([]byte("cloudless-job-v1"), id[:], specCBOR)
}

func safeName(s string) string { return strings.NewReplacer("/", "_", "\\", "_").Replace(s) }

// JobHash is the job hash an escrow deal for job id with spec must carry
// (specCBOR is wire.Marshal of the spec).
func JobHash(id wire.JobID, specCBOR []byte) common.Hash { return jobHash(id, specCBOR) }
