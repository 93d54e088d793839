package storage

import (
	"bytes"
	"context"
	"fmt"
	gopath "path"
	"sort"
	"strings"

	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// MemFile is one entry of a directory tree held in memory: a regular
// file (Path and Data) or, with Dir, a directory (Data ignored). Path is
// slash-separated and relative to the tree's root; a file's parent
// directories need not be listed.
type MemFile struct {
	Path string
	Data []byte
	Dir  bool
}

// AddFiles imports files held in memory as one UnixFS directory and pins
// it unless WithPin(false) (WithProgress and WithHidden do nothing here). Its CID is the one AddPath(dir,
// WithHidden(true)) gives the same tree written to disk under dir (the
// same file import, the same directory nodes and HAMT switch), but no
// file is written or read: the nodes go straight into the block store.
// A path that is empty, absolute, not clean ("a//b", "./a", "a/..") or
// listed twice, or a file used as a directory, is refused with
// ErrUnsafePath.
func (s *Store) AddFiles(ctx context.Context, fs []MemFile, opts ...AddOption) (cid.Cid, error) {
	if err := s.checkOpen(); err != nil {
		return cid.Undef, err
	}
	cfg := newAddConfig(opts)
	root, err := memTree(fs)
	if err != nil {
		return cid.Undef, err
	}
	unlock := s.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	dserv := s.dagService()
	nd, err := addMemDir(ctx, dserv, root)
	if err != nil {
		return cid.Undef, err
	}
	return s.finishMemAdd(ctx, nd, cfg)
}

// memPinFetch makes finishMemAdd pin as finishAdd does (reading the DAG
// back); only BenchmarkAddFilesJobOutput sets it, for its baseline.
var memPinFetch = false

// finishMemAdd is finishAdd for a DAG AddFiles has just written whole,
// under the pin lock: the pin is recorded without the pinner reading
// every block of it back from the block store (Pin's FetchGraph, a file
// open and read per block, ≈ 5% of a small job's provider CPU) since
// every block is known to be there (docs/benchmarks/provider-throughput.md).
func (s *Store) finishMemAdd(ctx context.Context, nd ipld.Node, cfg *addConfig) (cid.Cid, error) {
	c := nd.Cid()
	if err := s.syncBlocks(); err != nil {
		return cid.Undef, err
	}
	if cfg.pin {
		pinIt := func() error { return s.pinner.PinWithMode(ctx, c, pin.Recursive, "") }
		if memPinFetch { // benchmark baseline: pin as finishAdd does
			pinIt = func() error { return s.pinner.Pin(ctx, nd, true, "") }
		}
		if err := pinIt(); err != nil {
			return cid.Undef, fmt.Errorf("storage: pin %s: %w", c, err)
		}
		if err := s.commitPins(ctx); err != nil {
			return cid.Undef, fmt.Errorf("storage: pin %s: %w", c, err)
		}
		s.updatePinGauge(ctx)
	}
	s.provide(c)
	return c, nil
}

// memDir is a directory of a tree held in memory.
type memDir struct {
	dirs  map[string]*memDir
	files map[string][]byte
}

func newMemDir() *memDir { return &memDir{dirs: map[string]*memDir{}, files: map[string][]byte{}} }

// memTree checks the paths of fs and builds their tree.
func memTree(fs []MemFile) (*memDir, error) {
	root := newMemDir()
	for _, f := range fs {
		p := f.Path
		if p == "" || p == "." || strings.HasPrefix(p, "/") || gopath.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
			return nil, fmt.Errorf("%w: %q", ErrUnsafePath, p)
		}
		parts := strings.Split(p, "/")
		d := root
		for i, name := range parts {
			if name == ".." || strings.ContainsRune(name, 0) {
				return nil, fmt.Errorf("%w: %q", ErrUnsafePath, p)
			}
			last := i == len(parts)-1
			if _, isFile := d.files[name]; isFile {
				return nil, fmt.Errorf("%w: %q listed twice or under a file", ErrUnsafePath, p)
			}
			sub, isDir := d.dirs[name]
			if last && !f.Dir {
				if isDir {
					return nil, fmt.Errorf("%w: %q is a directory", ErrUnsafePath, p)
				}
				b := f.Data
				if b == nil {
					b = []byte{}
				}
				d.files[name] = b
				break
			}
			if !isDir {
				sub = newMemDir()
				d.dirs[name] = sub
			}
			d = sub
		}
	}
	return root, nil
}

// addMemDir imports d and what it holds, deepest first, and returns its
// node. Children are added in name order, as AddPath reads a directory.
func addMemDir(ctx context.Context, dserv ipld.DAGService, d *memDir) (ipld.Node, error) {
	dir, err := uio.NewDirectory(dserv,
		uio.WithCidBuilder(cidBuilder),
		uio.WithMaxLinks(0),
		uio.WithMaxHAMTFanout(HAMTFanout),
		uio.WithSizeEstimationMode(uio.SizeEstimationLinks),
	)
	if err != nil {
		return nil, err
	}
	dir.SetHAMTShardingSize(HAMTShardingSize) // as mfs.WithHAMTShardingSize
	names := make([]string, 0, len(d.dirs)+len(d.files))
	for n := range d.dirs {
		names = append(names, n)
	}
	for n := range d.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var nd ipld.Node
		if sub, ok := d.dirs[name]; ok {
			nd, err = addMemDir(ctx, dserv, sub)
		} else {
			nd, err = importFile(ctx, dserv, bytes.NewReader(d.files[name]))
		}
		if err != nil {
			return nil, fmt.Errorf("storage: add %s: %w", name, err)
		}
		if err := dir.AddChild(ctx, name, nd); err != nil {
			return nil, err
		}
	}
	nd, err := dir.GetNode()
	if err != nil {
		return nil, err
	}
	if err := dserv.Add(ctx, nd); err != nil {
		return nil, err
	}
	return nd, nil
}
