package executor

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudless-network/cloudless/executor/internal/interrupt"
)

// instCache keeps instrumented modules on disk next to wazero's compilation
// cache, so that a disk-cache hit in a new process does not instrument the
// module again (≈ 20 ms for a 2.6 MB Go module, a large share of a hit;
// docs/rationale/executor.md). wazero's cache is keyed by the instrumented
// bytes, so it needs them before it can look anything up.
//
// One file per module, named by the original's sha256, in a directory named
// by interrupt.Version (the output of Instrument is a function of the two).
// A file holds the CRC-32C of the instrumented bytes and the bytes; it is
// written to a temp file and renamed into place, and a file that does not
// match its checksum is removed and the module instrumented again, so a
// torn or corrupted file never reaches wazero. Whoever can write to the
// cache directory can change what runs anyway (wazero's own cache there
// holds machine code); it is the node's private directory (0700).
type instCache struct {
	dir string
}

// instDirPrefix names the per-version directories inside the cache dir.
const instDirPrefix = "cloudless-instrumented-v"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newInstCache makes the directory for the current interrupt.Version inside
// cacheDir and removes those of other versions (their files can never be
// used again).
func newInstCache(cacheDir string) (*instCache, error) {
	dir := filepath.Join(cacheDir, fmt.Sprintf("%s%d", instDirPrefix, interrupt.Version))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(cacheDir); err == nil {
		for _, d := range ents {
			p := filepath.Join(cacheDir, d.Name())
			if d.IsDir() && strings.HasPrefix(d.Name(), instDirPrefix) && p != dir {
				_ = os.RemoveAll(p)
			}
		}
	}
	return &instCache{dir: dir}, nil
}

func (c *instCache) path(h Hash) string { return filepath.Join(c.dir, h.String()+".wasm") }

// get returns the instrumented form of the module with hash h, or nil when
// there is none or it is damaged; then the file is removed and damaged says
// why (for the one log line).
func (c *instCache) get(h Hash) (ins []byte, damaged error) {
	b, err := os.ReadFile(c.path(h))
	if err != nil {
		return nil, nil
	}
	if len(b) < 4 || binary.LittleEndian.Uint32(b) != crc32.Checksum(b[4:], castagnoli) {
		_ = os.Remove(c.path(h))
		return nil, fmt.Errorf("%s: checksum mismatch (%d bytes)", c.path(h), len(b))
	}
	return b[4:], nil
}

// put stores ins as the instrumented form of the module with hash h. It is
// best effort: a failure only means the next process instruments again.
func (c *instCache) put(h Hash, ins []byte) error {
	f, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return err
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc32.Checksum(ins, castagnoli))
	_, err = f.Write(sum[:])
	if err == nil {
		_, err = f.Write(ins)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.path(h))
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}
