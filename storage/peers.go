package storage

import (
	"context"
	"log/slog"
	"sync"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

type blkT = blocks.Block

const (
	// wantWindow is how long a CID we asked for stays "solicited": a peer
	// may answer a want late, after we got the block elsewhere or gave up.
	wantWindow = 10 * time.Minute
	// maxWants bounds the want log; the oldest entries go first.
	maxWants = 1 << 18
	// penaltyTag is the connection-manager tag put on a peer that sent a
	// block we never asked for (most often: data that does not hash to the
	// CID it was sent for, which bitswap's decoder turns into a block with
	// a different CID).
	penaltyTag   = "cloudless-storage-bad-block"
	penaltyScore = -1000
)

// wantLog remembers the multihashes this node asked bitswap for recently.
// Keyed by multihash because bitswap blocks may arrive under another CID
// version or codec of the same hash.
type wantLog struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newWantLog() *wantLog { return &wantLog{m: make(map[string]time.Time)} }

func (w *wantLog) add(cs ...cid.Cid) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m)+len(cs) > maxWants {
		for k, t := range w.m {
			if now.Sub(t) > wantWindow {
				delete(w.m, k)
			}
		}
		for k := range w.m { // still full: drop arbitrary entries
			if len(w.m)+len(cs) <= maxWants {
				break
			}
			delete(w.m, k)
		}
	}
	for _, c := range cs {
		w.m[string(c.Hash())] = now
	}
}

func (w *wantLog) wanted(c cid.Cid) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.m[string(c.Hash())]
	return ok && time.Since(t) <= wantWindow
}

// penaltyBox punishes peers that push blocks we did not ask for: the
// connection is tagged down in the connection manager and closed.
type penaltyBox struct {
	h     host.Host
	wants *wantLog
	met   metricsTracer
	log   *slog.Logger

	mu      sync.Mutex
	strikes map[peer.ID]int
}

func newPenaltyBox(h host.Host, w *wantLog, met metricsTracer, log *slog.Logger) *penaltyBox {
	return &penaltyBox{h: h, wants: w, met: met, log: log, strikes: make(map[peer.ID]int)}
}

func (p *penaltyBox) punish(from peer.ID, c cid.Cid) {
	p.mu.Lock()
	p.strikes[from]++
	n := p.strikes[from]
	p.mu.Unlock()
	p.met.BadBlock()
	p.log.Warn("peer sent a block we did not ask for (bad hash or unsolicited); disconnecting",
		"peer", from, "cid", c, "strikes", n)
	p.h.ConnManager().TagPeer(from, penaltyTag, penaltyScore)
	_ = p.h.Network().ClosePeer(from)
}

// Strikes reports how many unsolicited or bad blocks peer p sent.
func (p *penaltyBox) Strikes(id peer.ID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.strikes[id]
}

// PeerStrikes reports how many unsolicited or corrupt blocks peer id has
// sent this store since Serve. Each strike closed the connection.
func (s *Store) PeerStrikes(id peer.ID) int {
	s.mu.RLock()
	pb := s.penalty
	s.mu.RUnlock()
	if pb == nil {
		return 0
	}
	return pb.Strikes(id)
}

// bitswapTracer feeds metrics and the penalty box. bitswap calls
// MessageReceived before it processes the message.
type bitswapTracer struct{ s *Store }

func (t *bitswapTracer) MessageReceived(from peer.ID, m bsmsg.BitSwapMessage) {
	for _, b := range m.Blocks() {
		t.s.met.BlockIn(len(b.RawData()))
		if t.s.wants.wanted(b.Cid()) {
			continue
		}
		// A duplicate of something we already hold is harmless.
		if has, err := t.s.raw.Has(context.Background(), b.Cid()); err == nil && has {
			continue
		}
		t.s.mu.RLock()
		pb := t.s.penalty
		t.s.mu.RUnlock()
		if pb != nil {
			pb.punish(from, b.Cid())
		}
	}
}

func (t *bitswapTracer) MessageSent(to peer.ID, m bsmsg.BitSwapMessage) {
	for _, b := range m.Blocks() {
		t.s.met.BlockOut(len(b.RawData()))
	}
}

// accessLog keeps the last time each block was read or written in this
// process, so size-triggered GC drops the least recently used unpinned
// blocks first and a provider keeps the modules it runs hot. Blocks not
// touched since Open count as oldest.
type accessLog struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newAccessLog() *accessLog { return &accessLog{m: make(map[string]time.Time)} }

func (a *accessLog) touch(c cid.Cid) {
	a.mu.Lock()
	a.m[string(c.Hash())] = time.Now()
	a.mu.Unlock()
}

func (a *accessLog) last(c cid.Cid) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[string(c.Hash())]
}

func (a *accessLog) forget(c cid.Cid) {
	a.mu.Lock()
	delete(a.m, string(c.Hash()))
	a.mu.Unlock()
}

type accessBlockstore struct {
	blockstore.Blockstore
	log *accessLog
}

func (b *accessBlockstore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	blk, err := b.Blockstore.Get(ctx, c)
	if err == nil {
		b.log.touch(c)
	}
	return blk, err
}

func (b *accessBlockstore) Put(ctx context.Context, blk blocks.Block) error {
	err := b.Blockstore.Put(ctx, blk)
	if err == nil {
		b.log.touch(blk.Cid())
	}
	return err
}

func (b *accessBlockstore) PutMany(ctx context.Context, bs []blocks.Block) error {
	err := b.Blockstore.PutMany(ctx, bs)
	if err == nil {
		for _, blk := range bs {
			b.log.touch(blk.Cid())
		}
	}
	return err
}
