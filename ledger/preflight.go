package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk meta page (go.etcd.io/bbolt/internal/common/meta.go):
// a 16-byte page header, then magic, version, pageSize, flags (uint32
// each), root bucket (pgid, sequence), freelist pgid, high-water pgid,
// txid, checksum (uint64 each; FNV-64a of the fields before it), in the
// machine's byte order (little-endian on every platform we build for).
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltMetaSum    = 56 // bytes covered by the checksum
	boltMetaSize   = 64
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

func readMeta(f *os.File, off int64) (boltMeta, error) {
	b := make([]byte, boltPageHeader+boltMetaSize)
	if _, err := f.ReadAt(b, off); err != nil {
		return boltMeta{}, err
	}
	m := b[boltPageHeader:]
	le := binary.LittleEndian
	h := fnv.New64a()
	_, _ = h.Write(m[:boltMetaSum])
	switch {
	case le.Uint32(m[0:]) != boltMagic:
		return boltMeta{}, errors.New("bad magic")
	case le.Uint32(m[4:]) != boltVersion:
		return boltMeta{}, fmt.Errorf("version %d", le.Uint32(m[4:]))
	case le.Uint64(m[56:]) != h.Sum64():
		return boltMeta{}, errors.New("bad checksum")
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, nil
}

// preflight catches the damage bbolt does not check before it maps the
// file: a file shorter than its meta page says (torn by a failed copy, a
// full disk or truncation). bbolt would fault (SIGBUS, which Go cannot
// recover) on the first read of a page past the end. A missing or empty
// file is fine: Open creates it.
func preflight(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("ledger: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("ledger: stat %s: %w", path, err)
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	corrupt := func(what string, err error) error { return &CorruptError{Path: path, What: what, Err: err} }
	m0, err0 := readMeta(f, 0)
	ps := int64(os.Getpagesize())
	if err0 == nil {
		ps = int64(m0.pageSize)
	}
	m1, err1 := readMeta(f, ps)
	if errors.Is(err0, io.EOF) || errors.Is(err0, io.ErrUnexpectedEOF) {
		return corrupt("meta page", fmt.Errorf("file is %d bytes, too short for a database", size))
	}
	var m boltMeta
	switch {
	case err0 != nil && err1 != nil:
		return corrupt("meta pages", fmt.Errorf("neither is valid: %v; %v", err0, err1))
	case err0 != nil:
		m = m1
	case err1 != nil:
		m = m0
	case m1.txid > m0.txid:
		m = m1
	default:
		m = m0
	}
	if m.pageSize < 512 || m.pageSize > 1<<20 {
		return corrupt("meta page", fmt.Errorf("page size %d", m.pageSize))
	}
	if need := int64(m.pgid) * int64(m.pageSize); size < need {
		return corrupt("file size", fmt.Errorf("truncated: %d bytes, the meta page says %d", size, need))
	}
	return nil
}
