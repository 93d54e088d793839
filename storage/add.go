package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	gopath "path"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	ihelper "github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/boxo/mfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// The UnixFS import parameters of kubo v0.41's `ipfs add --cid-version=1`
// with a default config; changing any of them changes the CIDs.
const (
	// ChunkSize is kubo's default fixed-size chunker, size-262144.
	ChunkSize = 256 << 10
	// LinksPerNode is the maximum links of a balanced-layout file node
	// (boxo helpers.DefaultLinksPerBlock, a variable there).
	LinksPerNode = 174
	// HAMTShardingSize is the estimated directory size (link names + CID
	// bytes) above which a directory becomes a HAMT shard, as
	// Import.UnixFSHAMTDirectorySizeThreshold.
	HAMTShardingSize = 256 << 10
	// HAMTFanout is Import.UnixFSHAMTDirectoryMaxFanout.
	HAMTFanout = 256
)

// cidBuilder is CIDv1, dag-pb, sha2-256; leaves are raw (codec 0x55).
var cidBuilder = cid.Prefix{Version: 1, Codec: cid.DagProtobuf, MhType: mh.SHA2_256, MhLength: -1}

type addConfig struct {
	pin      bool
	hidden   bool
	progress func(n int64)
}

// AddOption configures AddFile, AddPath and AddBytes.
type AddOption func(*addConfig)

// WithPin pins the added root recursively (the default) or not.
func WithPin(pin bool) AddOption { return func(c *addConfig) { c.pin = pin } }

// WithHidden includes files whose names start with a dot when adding a
// directory; kubo's `ipfs add -r` skips them unless --hidden is given,
// and so does AddPath by default.
func WithHidden(hidden bool) AddOption { return func(c *addConfig) { c.hidden = hidden } }

// WithProgress calls fn with the total number of input bytes read so far,
// about every 256 KiB and at the end of every file.
func WithProgress(fn func(n int64)) AddOption { return func(c *addConfig) { c.progress = fn } }

func newAddConfig(opts []AddOption) *addConfig {
	c := &addConfig{pin: true}
	for _, o := range opts {
		o(c)
	}
	return c
}

// AddBytes imports b as a UnixFS file and pins it.
func (s *Store) AddBytes(ctx context.Context, b []byte, opts ...AddOption) (cid.Cid, error) {
	return s.AddFile(ctx, files.NewBytesFile(b), opts...)
}

// AddFile imports the data read from r as one UnixFS file, with the CID
// kubo's `ipfs add --cid-version=1` gives the same bytes, and pins it
// unless WithPin(false).
func (s *Store) AddFile(ctx context.Context, r io.Reader, opts ...AddOption) (cid.Cid, error) {
	if err := s.checkOpen(); err != nil {
		return cid.Undef, err
	}
	cfg := newAddConfig(opts)
	unlock := s.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	cnt := &countingReader{r: r, fn: cfg.progress}
	nd, err := importFile(ctx, s.dagService(), cnt)
	if err != nil {
		return cid.Undef, err
	}
	cnt.flush()
	return s.finishAdd(ctx, nd, cfg)
}

// AddPath imports a file or, recursively, a directory, exactly like
// kubo's `ipfs add [-r] --cid-version=1 PATH`: dot files are skipped
// unless WithHidden(true), empty directories are kept, symlinks are stored
// as UnixFS symlinks, large directories become HAMT shards.
func (s *Store) AddPath(ctx context.Context, path string, opts ...AddOption) (cid.Cid, error) {
	if err := s.checkOpen(); err != nil {
		return cid.Undef, err
	}
	cfg := newAddConfig(opts)
	st, err := os.Stat(path)
	if err != nil {
		return cid.Undef, fmt.Errorf("storage: add %s: %w", path, err)
	}
	filter, err := files.NewFilter("", nil, cfg.hidden)
	if err != nil {
		return cid.Undef, err
	}
	node, err := files.NewSerialFileWithFilter(path, filter, st)
	if err != nil {
		return cid.Undef, fmt.Errorf("storage: add %s: %w", path, err)
	}
	defer node.Close()

	unlock := s.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	dserv := s.dagService()
	a := &adder{ctx: ctx, dserv: dserv, cfg: cfg}
	var nd ipld.Node
	switch f := node.(type) {
	case files.Directory:
		nd, err = a.addTopDir(f)
	case files.File:
		cnt := &countingReader{r: f, fn: cfg.progress}
		nd, err = importFile(ctx, dserv, cnt)
		cnt.flush()
	default:
		err = fmt.Errorf("storage: add %s: not a file or directory", path)
	}
	if err != nil {
		return cid.Undef, err
	}
	return s.finishAdd(ctx, nd, cfg)
}

func (s *Store) finishAdd(ctx context.Context, nd ipld.Node, cfg *addConfig) (cid.Cid, error) {
	c := nd.Cid()
	if err := s.syncBlocks(); err != nil {
		return cid.Undef, err
	}
	if cfg.pin {
		if err := s.pinner.Pin(ctx, nd, true, ""); err != nil {
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

// importFile builds a balanced UnixFS DAG with raw leaves from r.
func importFile(ctx context.Context, dserv ipld.DAGService, r io.Reader) (ipld.Node, error) {
	buffered := ipld.NewBufferedDAG(ctx, dserv)
	params := ihelper.DagBuilderParams{
		Dagserv:    buffered,
		RawLeaves:  true,
		Maxlinks:   LinksPerNode,
		CidBuilder: cidBuilder,
	}
	db, err := params.New(chunker.NewSizeSplitter(r, ChunkSize))
	if err != nil {
		return nil, err
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		return nil, fmt.Errorf("storage: import: %w", err)
	}
	if err := buffered.Commit(); err != nil {
		return nil, fmt.Errorf("storage: import: %w", err)
	}
	return nd, nil
}

// adder builds directories through MFS exactly as kubo's coreunix.Adder
// does, so that directory nodes and HAMT shards come out byte-identical.
type adder struct {
	ctx   context.Context
	dserv ipld.DAGService
	cfg   *addConfig
	root  *mfs.Root
	total int64
}

func (a *adder) mfsOpts(extra ...mfs.Option) []mfs.Option {
	return append([]mfs.Option{
		mfs.WithCidBuilder(cidBuilder),
		mfs.WithMaxLinks(0),
		mfs.WithMaxHAMTFanout(HAMTFanout),
		mfs.WithHAMTShardingSize(HAMTShardingSize),
		mfs.WithSizeEstimationMode(uio.SizeEstimationLinks),
	}, extra...)
}

func (a *adder) addTopDir(d files.Directory) (ipld.Node, error) {
	root, err := mfs.NewEmptyRoot(a.ctx, a.dserv, nil, nil, a.mfsOpts()...)
	if err != nil {
		return nil, err
	}
	a.root = root
	if err := a.addDir("", d); err != nil {
		root.Close()
		return nil, err
	}
	dir := root.GetDirectory()
	if err := dir.Flush(); err != nil {
		root.Close()
		return nil, err
	}
	if err := root.Close(); err != nil {
		return nil, err
	}
	return dir.GetNode()
}

func (a *adder) addNode(nd ipld.Node, path string) error {
	if dir := gopath.Dir(path); dir != "." {
		if err := mfs.Mkdir(a.root, dir, mfs.MkdirOpts{Mkparents: true}, a.mfsOpts()...); err != nil {
			return err
		}
	}
	return mfs.PutNode(a.root, path, nd)
}

func (a *adder) addDir(path string, d files.Directory) error {
	if path != "" {
		if err := mfs.Mkdir(a.root, path, mfs.MkdirOpts{Mkparents: true}, a.mfsOpts()...); err != nil {
			return err
		}
	}
	it := d.Entries()
	for it.Next() {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		fpath := gopath.Join(path, it.Name())
		if err := a.addEntry(fpath, it.Node()); err != nil {
			return err
		}
	}
	return it.Err()
}

func (a *adder) addEntry(path string, n files.Node) error {
	defer n.Close()
	switch f := n.(type) {
	case files.Directory:
		return a.addDir(path, f)
	case *files.Symlink:
		data, err := unixfs.SymlinkData(f.Target)
		if err != nil {
			return err
		}
		nd := dag.NodeWithData(data)
		if err := nd.SetCidBuilder(cidBuilder); err != nil {
			return err
		}
		if err := a.dserv.Add(a.ctx, nd); err != nil {
			return err
		}
		return a.addNode(nd, path)
	case files.File:
		cnt := &countingReader{r: f, fn: a.cfg.progress, n: a.total}
		nd, err := importFile(a.ctx, a.dserv, cnt)
		cnt.flush()
		a.total = cnt.n
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return a.addNode(nd, path)
	default:
		return errors.New("storage: unknown file type at " + path)
	}
}

// countingReader reports progress about every 256 KiB.
type countingReader struct {
	r        io.Reader
	fn       func(int64)
	n, last  int64
	reported bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.fn != nil && c.n-c.last >= ChunkSize {
		c.last = c.n
		c.fn(c.n)
	}
	return n, err
}

func (c *countingReader) flush() {
	if c.fn != nil && (c.n != c.last || !c.reported) {
		c.last = c.n
		c.reported = true
		c.fn(c.n)
	}
}
