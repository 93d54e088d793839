package storage

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

func openTestStore(tb testing.TB, opts *Options) *Store {
	tb.Helper()
	if opts == nil {
		opts = &Options{}
	}
	opts.NoSync = true
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "ipfs"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
		if err := s.Close(); err != nil { // twice is fine
			tb.Errorf("second close: %v", err)
		}
	})
	return s
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestAddReadRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	for _, n := range []int{0, 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 17} {
		data := randBytes(n, uint64(n))
		var last int64
		c, err := s.AddBytes(ctx, data, WithProgress(func(x int64) { last = x }))
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if last != int64(n) {
			t.Errorf("%d: progress ended at %d", n, last)
		}
		if c.Version() != 1 {
			t.Errorf("%d: CID version %d", n, c.Version())
		}
		wantCodec := uint64(cid.DagProtobuf)
		if n <= ChunkSize {
			wantCodec = cid.Raw // one chunk: the raw leaf is the root
		}
		if c.Prefix().Codec != wantCodec {
			t.Errorf("%d: codec %#x, want %#x", n, c.Prefix().Codec, wantCodec)
		}
		got, err := s.ReadFile(ctx, c, 0)
		if err != nil {
			t.Fatalf("%d: read: %v", n, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%d: round trip differs", n)
		}
		r, size, err := s.Open(ctx, c)
		if err != nil || size != int64(n) {
			t.Fatalf("%d: open: size %d err %v", n, size, err)
		}
		r.Close()
	}
}

func TestKnownCIDs(t *testing.T) {
	// CIDs printed by kubo v0.41.0 `ipfs add --cid-version=1`.
	ctx := context.Background()
	s := openTestStore(t, nil)
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{nil, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{[]byte("hello world\n"), "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"},
	} {
		c, err := s.AddBytes(ctx, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != tc.want {
			t.Errorf("%q: got %s want %s", tc.data, c, tc.want)
		}
	}
}

func writeTree(t testing.TB, root string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		if data == nil {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAddPathDirAndGet(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	src := filepath.Join(t.TempDir(), "src")
	writeTree(t, src, map[string][]byte{
		"a.txt":            []byte("a"),
		"sub/b.bin":        randBytes(ChunkSize+5, 7),
		"sub/deeper/c":     []byte("c"),
		"empty":            nil,
		".hidden":          []byte("secret"),
		"sub/.also-hidden": []byte("x"),
	})
	c, err := s.AddPath(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	withHidden, err := s.AddPath(ctx, src, WithHidden(true))
	if err != nil {
		t.Fatal(err)
	}
	if c.Equals(withHidden) {
		t.Fatal("hidden files made no difference")
	}
	out := filepath.Join(t.TempDir(), "out")
	var prog int64
	if err := s.Get(ctx, c, out, 0, func(n int64) { prog = n }); err != nil {
		t.Fatal(err)
	}
	if prog != int64(ChunkSize+5+2) {
		t.Errorf("progress %d", prog)
	}
	for name, want := range map[string]string{"a.txt": "a", "sub/deeper/c": "c"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	if st, err := os.Stat(filepath.Join(out, "empty")); err != nil || !st.IsDir() {
		t.Errorf("empty dir not kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, ".hidden")); !os.IsNotExist(err) {
		t.Errorf(".hidden was added: %v", err)
	}
	// The cap applies to the whole tree and removes the partial output.
	out2 := filepath.Join(t.TempDir(), "out2")
	err = s.Get(ctx, c, out2, 100, nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("partial output left behind: %v", err)
	}
	// Existing output is refused.
	if err := s.Get(ctx, c, out, 0, nil); err == nil {
		t.Error("Get over an existing path succeeded")
	}
	// ReadFile of a directory is refused.
	if _, err := s.ReadFile(ctx, c, 0); !errors.Is(err, ErrNotUnixFS) {
		t.Errorf("ReadFile(dir): %v", err)
	}
}

func TestSizeCap(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	c, err := s.AddBytes(ctx, randBytes(2*ChunkSize, 3))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadFile(ctx, c, ChunkSize)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != ChunkSize || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want TooLargeError, got %v", err)
	}
	if _, err := s.ReadFile(ctx, c, 2*ChunkSize); err != nil {
		t.Fatalf("exactly at cap: %v", err)
	}
	out := filepath.Join(t.TempDir(), "f")
	if err := s.Get(ctx, c, out, ChunkSize, nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Get: %v", err)
	}
}

// A DAG whose declared size lies (smaller than its data) is still stopped
// at the cap.
func TestSizeCapLyingDAG(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	leaf := dag.NewRawNode(randBytes(1000, 1))
	fsn := unixfs.NewFSNode(unixfs.TFile)
	fsn.AddBlockSize(10) // claims 10 bytes
	data, _ := fsn.GetBytes()
	root := dag.NodeWithData(data)
	root.SetCidBuilder(cidBuilder)
	if err := root.AddNodeLink("", leaf); err != nil {
		t.Fatal(err)
	}
	ds := s.dagService()
	if err := ds.AddMany(ctx, []ipld.Node{leaf, root}); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReadFile(ctx, root.Cid(), 100)
	if err == nil {
		t.Fatal("lying DAG read past the cap")
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("lying DAG: want ErrTooLarge, got %v", err)
	}
}

func TestGetRefusesUnsafeNames(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	for _, name := range []string{"..", "a/b", "."} {
		leaf := dag.NewRawNode([]byte("x"))
		dir := unixfs.EmptyDirNode()
		dir.SetCidBuilder(cidBuilder)
		if err := dir.AddNodeLink(name, leaf); err != nil {
			t.Fatal(err)
		}
		if err := s.dagService().AddMany(ctx, []ipld.Node{leaf, dir}); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "o")
		if err := s.Get(ctx, dir.Cid(), out, 0, nil); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%q: want ErrUnsafePath, got %v", name, err)
		}
	}
}

func TestPinAndGC(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	kept, err := s.AddBytes(ctx, randBytes(3*ChunkSize, 11))
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := s.AddBytes(ctx, randBytes(3*ChunkSize, 12), WithPin(false))
	if err != nil {
		t.Fatal(err)
	}
	direct, err := s.AddBytes(ctx, []byte("direct"), WithPin(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pin(ctx, direct, false); err != nil {
		t.Fatal(err)
	}
	pins, err := s.PinList(ctx)
	if err != nil || len(pins) != 2 {
		t.Fatalf("pins %v %v", pins, err)
	}
	n, err := s.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 { // 3 leaves + root of the unpinned file
		t.Errorf("GC removed %d blocks, want 4", n)
	}
	if _, err := s.ReadFile(ctx, kept, 0); err != nil {
		t.Errorf("pinned file gone: %v", err)
	}
	if _, err := s.ReadFile(ctx, direct, 0); err != nil {
		t.Errorf("direct pin gone: %v", err)
	}
	_, err = s.ReadFile(ctx, dropped, 0)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) || nf.Cid != dropped {
		t.Errorf("unpinned file: %v", err)
	}
	if err := s.Unpin(ctx, kept, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Unpin(ctx, kept, true); !errors.Is(err, ErrNotPinned) {
		t.Errorf("second unpin: %v", err)
	}
	if n, _ := s.GC(ctx); n != 4 {
		t.Errorf("GC after unpin removed %d", n)
	}
}

func TestMaybeGCKeepsRecent(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, &Options{CacheSize: 5 * ChunkSize})
	old, _ := s.AddBytes(ctx, randBytes(4*ChunkSize, 21), WithPin(false))
	hot, _ := s.AddBytes(ctx, randBytes(2*ChunkSize, 22), WithPin(false))
	if _, err := s.ReadFile(ctx, hot, 0); err != nil { // touch
		t.Fatal(err)
	}
	n, err := s.MaybeGC(ctx)
	if err != nil || n == 0 {
		t.Fatalf("MaybeGC removed %d, err %v", n, err)
	}
	if _, err := s.ReadFile(ctx, hot, 0); err != nil {
		t.Errorf("recently used file was collected: %v", err)
	}
	if _, err := s.ReadFile(ctx, old, 0); err == nil {
		t.Error("old file survived")
	}
	if u, _ := s.DiskUsage(ctx); u > 5*ChunkSize {
		t.Errorf("usage %d still over budget", u)
	}
}

func TestCARRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := openTestStore(t, nil)
	b := openTestStore(t, nil)
	src := filepath.Join(t.TempDir(), "d")
	writeTree(t, src, map[string][]byte{"x": randBytes(ChunkSize*2+1, 5), "y/z": []byte("z")})
	c, err := a.AddPath(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.ExportCAR(ctx, c, &buf); err != nil {
		t.Fatal(err)
	}
	car := buf.Bytes()
	roots, err := b.ImportCAR(ctx, bytes.NewReader(car))
	if err != nil || len(roots) != 1 || !roots[0].Equals(c) {
		t.Fatalf("import: %v %v", roots, err)
	}
	out := filepath.Join(t.TempDir(), "o")
	if err := b.Get(ctx, c, out, 0, nil); err != nil {
		t.Fatal(err)
	}
	if pins, _ := b.Pins(ctx); len(pins) != 1 || !pins[0].Equals(c) {
		t.Errorf("pins after import: %v", pins)
	}
	// Flip a byte in the last block's data: rejected.
	bad := bytes.Clone(car)
	bad[len(bad)-1] ^= 0xff
	if _, err := openTestStore(t, nil).ImportCAR(ctx, bytes.NewReader(bad)); !errors.Is(err, ErrBadCAR) {
		t.Errorf("corrupt CAR: %v", err)
	}
	if _, err := b.ImportCAR(ctx, bytes.NewReader([]byte("not a car"))); !errors.Is(err, ErrBadCAR) {
		t.Errorf("garbage CAR: %v", err)
	}
	// Exporting something absent offline names the CID.
	var nf *NotFoundError
	missing := cid.NewCidV1(cid.Raw, mustSum(t, []byte("absent")))
	if err := b.ExportCAR(ctx, missing, &bytes.Buffer{}); !errors.As(err, &nf) || nf.Cid != missing {
		t.Errorf("export of missing: %v", err)
	}
}

func mustSum(t testing.TB, b []byte) mh.Multihash {
	h, err := mh.Sum(b, mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// blockFiles lists the flatfs files of a store.
func blockFiles(t testing.TB, s *Store) []string {
	var out []string
	filepath.WalkDir(filepath.Join(s.Dir(), blocksDir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".data" {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestCorruptRepoAndVerify(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, nil)
	c, err := s.AddBytes(ctx, randBytes(ChunkSize/2, 9)) // one raw block
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.AddBytes(ctx, []byte("good"))
	if err != nil {
		t.Fatal(err)
	}
	var target string
	for _, f := range blockFiles(t, s) {
		if st, _ := os.Stat(f); st.Size() == ChunkSize/2 {
			target = f
		}
	}
	if target == "" {
		t.Fatal("block file not found")
	}
	data, _ := os.ReadFile(target)
	data[0] ^= 1
	os.WriteFile(target, data, 0o644)

	if _, err := s.ReadFile(ctx, c, 0); !errors.Is(err, ErrCorruptRepo) {
		t.Fatalf("read of corrupt block: %v", err)
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Bad) != 1 || !bytes.Equal(rep.Bad[0].Hash(), c.Hash()) || rep.Checked != 2 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Missing) != 1 || rep.OK() {
		t.Errorf("pinned block should be reported missing: %+v", rep)
	}
	if has, _ := s.Has(ctx, c); has {
		t.Error("bad block not removed")
	}
	if _, err := s.ReadFile(ctx, good, 0); err != nil {
		t.Errorf("good block: %v", err)
	}
	rep, err = s.Verify(ctx)
	if err != nil || len(rep.Bad) != 0 {
		t.Errorf("second verify %+v %v", rep, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ipfs")
	s, err := Open(ctx, dir, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v", err)
	}
	s.Close()
	if _, err := s.AddBytes(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: %v", err)
	}
	// A damaged block store layout.
	os.Remove(filepath.Join(dir, blocksDir, "SHARDING"))
	os.WriteFile(filepath.Join(dir, blocksDir, "SHARDING"), []byte("/repo/flatfs/shard/v1/bogus/9"), 0o644)
	if _, err := Open(ctx, dir, nil); !errors.Is(err, ErrCorruptRepo) {
		t.Errorf("damaged repo: %v", err)
	}
}

func TestOfflineNotFound(t *testing.T) {
	s := openTestStore(t, nil)
	c := cid.NewCidV1(cid.Raw, mustSum(t, []byte("nobody has this")))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := s.ReadFile(ctx, c, 0)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Cid != c || !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
}
