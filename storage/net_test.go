package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func newHost(tb testing.TB) host.Host {
	tb.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

func connect(tb testing.TB, a, b host.Host) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		tb.Fatal(err)
	}
}

// servingPair returns two serving stores whose hosts are connected.
func servingPair(tb testing.TB) (*Store, *Store, host.Host, host.Host) {
	ctx := context.Background()
	a, b := openTestStore(tb, nil), openTestStore(tb, nil)
	ha, hb := newHost(tb), newHost(tb)
	if err := a.Serve(ctx, ha, nil); err != nil {
		tb.Fatal(err)
	}
	if err := b.Serve(ctx, hb, nil); err != nil {
		tb.Fatal(err)
	}
	connect(tb, ha, hb)
	return a, b, ha, hb
}

func TestBitswapFetch(t *testing.T) {
	a, b, ha, _ := servingPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Serve(ctx, ha, nil); !errors.Is(err, ErrServing) {
		t.Errorf("second Serve: %v", err)
	}
	data := randBytes(5*ChunkSize+3, 42)
	c, err := a.AddBytes(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.ReadFile(ctx, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("fetched data differs")
	}
	if has, _ := b.Has(ctx, c); !has {
		t.Error("fetched root not cached")
	}

	src := filepath.Join(t.TempDir(), "d")
	writeTree(t, src, map[string][]byte{"m.wasm": randBytes(1000, 1), "in/data": randBytes(ChunkSize*2, 2)})
	dc, err := a.AddPath(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Get(ctx, dc, filepath.Join(t.TempDir(), "out"), 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Pin(ctx, dc, true); err != nil {
		t.Fatal(err)
	}
	if b.PeerStrikes(ha.ID()) != 0 {
		t.Error("honest peer penalized")
	}
}

func TestUnknownCIDTimeout(t *testing.T) {
	_, b, _, _ := servingPair(t)
	c := cid.NewCidV1(cid.Raw, mustSum(t, []byte("nobody has this")))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := b.ReadFile(ctx, c, 0)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrTimeout) || nf.Cid != c {
		t.Fatalf("want timeout naming %s, got %v", c, err)
	}
	if want := c.String(); !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("message %q does not name the CID", err)
	}
}

// liar answers every want with bytes that do not hash to the wanted CID.
type liar struct {
	net interface {
		SendMessage(context.Context, peer.ID, bsmsg.BitSwapMessage) error
	}
	sent chan struct{}
}

func (l *liar) ReceiveMessage(ctx context.Context, p peer.ID, m bsmsg.BitSwapMessage) {
	for _, e := range m.Wantlist() {
		if e.Cancel {
			continue
		}
		out := bsmsg.New(false)
		blk, _ := blocks.NewBlockWithCid([]byte("not what you asked for"), e.Cid)
		out.AddBlock(blk)
		if l.net.SendMessage(ctx, p, out) == nil {
			select {
			case l.sent <- struct{}{}:
			default:
			}
		}
	}
}
func (l *liar) ReceiveError(error)       {}
func (l *liar) PeerConnected(peer.ID)    {}
func (l *liar) PeerDisconnected(peer.ID) {}

func TestLyingPeerRejectedAndPenalized(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openTestStore(t, nil)
	hs, hl := newHost(t), newHost(t)
	if err := s.Serve(ctx, hs, nil); err != nil {
		t.Fatal(err)
	}
	lnet := bsnet.NewFromIpfsHost(hl)
	l := &liar{net: lnet, sent: make(chan struct{}, 1)}
	lnet.Start(l)
	t.Cleanup(lnet.Stop)
	connect(t, hs, hl)

	want := cid.NewCidV1(cid.Raw, mustSum(t, []byte("the real content")))
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	errc := make(chan error, 1)
	go func() {
		_, err := s.ReadFile(fctx, want, 0)
		errc <- err
	}()
	// Penalized: a strike, and the connection closed. Poll: the liar is a
	// real peer on loopback and the tracer runs on bitswap's goroutine.
	deadline := time.Now().Add(15 * time.Second)
	for s.PeerStrikes(hl.ID()) == 0 || hs.Network().Connectedness(hl.ID()) == network.Connected {
		if time.Now().After(deadline) {
			t.Fatalf("strikes %d, connectedness %v", s.PeerStrikes(hl.ID()), hs.Network().Connectedness(hl.ID()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-l.sent:
	default:
		t.Fatal("the liar never answered (test did not exercise anything)")
	}
	select {
	case err := <-errc:
		t.Fatalf("fetch ended early: %v", err)
	default:
	}
	fcancel()
	if err := <-errc; err == nil {
		t.Fatal("fetch of a block only a liar has succeeded")
	}
	bogus := cid.NewCidV1(cid.Raw, mustSum(t, []byte("not what you asked for")))
	for _, c := range []cid.Cid{want, bogus} {
		if has, _ := s.Has(ctx, c); has {
			t.Errorf("%s stored", c)
		}
	}
	if n := len(blockFiles(t, s)); n != 0 {
		t.Errorf("%d blocks stored", n)
	}
}

// A peer whose repo holds a corrupt block does not serve it, and the
// fetcher stores nothing.
func TestCorruptPeerBlockNotServed(t *testing.T) {
	a, b, _, _ := servingPair(t)
	ctx := context.Background()
	c, err := a.AddBytes(ctx, randBytes(5000, 77))
	if err != nil {
		t.Fatal(err)
	}
	files := blockFiles(t, a)
	if len(files) != 1 {
		t.Fatalf("%d block files", len(files))
	}
	if err := os.WriteFile(files[0], randBytes(5000, 78), 0o644); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := b.ReadFile(fctx, c, 0); !errors.Is(err, ErrTimeout) {
		t.Fatalf("want timeout, got %v", err)
	}
	if has, _ := b.Has(ctx, c); has {
		t.Error("corrupt block stored")
	}
	if n := len(blockFiles(t, b)); n != 0 {
		t.Errorf("fetcher stored %d blocks", n)
	}
}

func TestServeRunsGC(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, &Options{CacheSize: 2 * ChunkSize, GCInterval: 10 * time.Millisecond})
	if _, err := s.AddBytes(ctx, randBytes(4*ChunkSize, 5), WithPin(false)); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ctx, newHost(t), nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, err := s.DiskUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u <= 2*ChunkSize {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage %d still over budget", u)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
