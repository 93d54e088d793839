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
	h, _, err := readOutput(dir, exitCode, -1)
	return h, err
}

// readOutput hashes the output directory dir as OutputHash does and, when
// its files hold at most keep bytes in all, also returns them as an
// inline result (stdout, stderr, then out/ files in path order); keep < 0
// never keeps them.
func readOutput(dir string, exitCode int32, keep int) ([32]byte, []wire.InlineFile, error) {
	var std [2][]byte // stdout, stderr
	for i, name := range []string{StdoutName, StderrName} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return [32]byte{}, nil, err
		}
		std[i] = b
	}
	names, outs, err := readOutFiles(filepath.Join(dir, OutDirName), nil)
	if err != nil {
		return [32]byte{}, nil, err
	}
	h, files := collectOutput(exitCode, std[0], std[1], names, outs, keep)
	return h, files, nil
}

// readOutFiles reads the regular files under outDir (a missing outDir is
// empty): their slash paths relative to outDir, sorted, and contents.
// names, when not nil, are the files already listed (the executor's
// Result.OutFiles, sorted) and spare the walk.
func readOutFiles(outDir string, names []string) ([]string, [][]byte, error) {
	if names == nil {
		err := filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == outDir {
					return filepath.SkipDir
				}
				return err
			}
			if d.Type().IsRegular() {
				rel, _ := filepath.Rel(outDir, p)
				names = append(names, filepath.ToSlash(rel))
			} else if !d.IsDir() {
				return fmt.Errorf("output %s: not a regular file", p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		sort.Strings(names)
	}
	outs := make([][]byte, len(names))
	for i, f := range names {
		b, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(f)))
		if err != nil {
			return nil, nil, err
		}
		outs[i] = b
	}
	return names, outs, nil
}

// collectOutput is OutputHash over an output held in memory and, when its
// files hold at most keep bytes in all (and are at most wire.MaxInline),
// the inline result (stdout, stderr, then out/ files in path order); keep
// < 0 never keeps them.
func collectOutput(exitCode int32, stdout, stderr []byte, names []string, outs [][]byte, keep int) ([32]byte, []wire.InlineFile) {
	h := hashOutput(exitCode, stdout, stderr, names, outs)
	if keep < 0 || 2+len(names) > wire.MaxInline {
		return h, nil
	}
	total := len(stdout) + len(stderr)
	for _, b := range outs {
		total += len(b)
	}
	if total > keep {
		return h, nil
	}
	nonNil := func(b []byte) []byte { // encoded as empty bytes, not null
		if b == nil {
			return []byte{}
		}
		return b
	}
	stdout, stderr = nonNil(stdout), nonNil(stderr)
	files := make([]wire.InlineFile, 0, 2+len(names))
	files = append(files, wire.InlineFile{Path: StdoutName, Data: stdout}, wire.InlineFile{Path: StderrName, Data: stderr})
	for i, f := range names {
		files = append(files, wire.InlineFile{Path: OutDirName + "/" + f, Data: nonNil(outs[i])})
	}
	return h, files
}

// hashOutput is OutputHash over contents already read: names are the
// out/ files' slash paths relative to out/, sorted, and outs their bytes.
func hashOutput(exitCode int32, stdout, stderr []byte, names []string, outs [][]byte) [32]byte {
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
	put(stdout)
	put(stderr)
	for i, f := range names {
		put([]byte(f))
		put(outs[i])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// inlineHash is OutputHash over an inline result's files (wire.Result
// Inline, already validated: stdout and stderr once, the rest under
// out/).
func inlineHash(exitCode int32, files []wire.InlineFile) [32]byte {
	var stdout, stderr []byte
	type entry struct {
		name string
		data []byte
	}
	var outs []entry
	for _, f := range files {
		switch f.Path {
		case StdoutName:
			stdout = f.Data
		case StderrName:
			stderr = f.Data
		default:
			outs = append(outs, entry{strings.TrimPrefix(f.Path, OutDirName+"/"), f.Data})
		}
	}
	sort.Slice(outs, func(i, j int) bool { return outs[i].name < outs[j].name })
	names := make([]string, len(outs))
	datas := make([][]byte, len(outs))
	for i, e := range outs {
		names[i], datas[i] = e.name, e.data
	}
	return hashOutput(exitCode, stdout, stderr, names, datas)
}

// writeInline lays an inline result's files out under dir as a fetched
// result directory would be (stdout, stderr, out/...). dir must not exist.
func writeInline(dir string, files []wire.InlineFile) error {
	if err := os.MkdirAll(filepath.Join(dir, OutDirName), 0o755); err != nil {
		return err
	}
	for _, f := range files {
		rel := filepath.FromSlash(f.Path)
		if !filepath.IsLocal(rel) { // wire validated it; never write outside dir
			return fmt.Errorf("inline path %q is not local", f.Path)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
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
