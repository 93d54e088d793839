package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	flatfs "github.com/ipfs/go-ds-flatfs"
	leveldb "github.com/ipfs/go-ds-leveldb"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/prometheus/client_golang/prometheus"
)

// Layout of the store inside its directory (the node repo's ipfs/):
//
//	blocks/     flatfs, sharded next-to-last/2 like kubo's default
//	datastore/  leveldb: pins and other metadata, like kubo's default
const (
	blocksDir    = "blocks"
	datastoreDir = "datastore"
)

// Defaults applied by Open when an Options field is zero.
const (
	// DefaultCacheSize is the disk budget for blocks above which
	// MaybeGC removes unpinned blocks.
	DefaultCacheSize int64 = 10 << 30
	// DefaultProvideTimeout bounds one DHT provide of a root.
	DefaultProvideTimeout = 2 * time.Minute
	// DefaultGCInterval is how often a serving store runs MaybeGC.
	DefaultGCInterval = 10 * time.Minute
	// gcLowWater is the fraction of CacheSize a size-triggered GC aims for.
	gcLowWater = 0.9
)

// Options configure a Store. A nil *Options means all defaults.
type Options struct {
	// CacheSize is the block budget in bytes. When the blockstore grows
	// past it, MaybeGC removes unpinned blocks, least recently used first,
	// until usage is under 90% of it. 0 means DefaultCacheSize; a negative
	// value disables size-triggered GC (GC still works when called).
	CacheSize int64
	// NoSync skips making added, imported and pinned content durable
	// (one syncfs after each such call). Blocks fetched from the network
	// are a cache and never synced, as in kubo, whose flatfs runs with
	// sync off. Meant for tests and throwaway repos.
	NoSync bool
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer, when set, gets the store's Prometheus metrics
	// (storage_metrics.go). Nil means no metrics are registered.
	Registerer prometheus.Registerer
	// ProvideTimeout bounds one DHT provide; 0 means DefaultProvideTimeout.
	ProvideTimeout time.Duration
	// GCInterval is how often a serving store checks its size against
	// CacheSize (MaybeGC); 0 means DefaultGCInterval.
	GCInterval time.Duration
}

// Store is an embedded IPFS node: an on-disk blockstore, UnixFS import and
// export, pins, garbage collection, CAR files and, once Serve is called,
// a bitswap client and server on a libp2p host.
//
// All methods are safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger

	ctx    context.Context // the store's own lifetime; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	blocksDS *flatfs.Datastore
	metaDS   *leveldb.Datastore

	raw    blockstore.Blockstore   // flatfs, unvalidated (Verify, GC)
	bstore blockstore.GCBlockstore // validating + identity + GC lock + access times
	access *accessLog
	pinner pin.Pinner
	wants  *wantLog
	met    metricsTracer

	offline blockservice.BlockService
	gcMu    sync.Mutex // one GC at a time

	blockSync, pinSync group // group commits (pinbatch.go)
	gaugeMu            sync.Mutex
	gaugeAt            time.Time // last pin count
	gaugeQueued        bool

	// provides queues CIDs for the provide workers Serve starts (nil
	// without a router): a burst of outputs announces through a fixed
	// number of goroutines, not one each.
	provides chan cid.Cid

	mu      sync.RWMutex
	closed  bool
	bswap   *bitswap.Bitswap
	online  blockservice.BlockService
	host    host.Host
	router  routing.ContentRouting
	penalty *penaltyBox

	closeOnce sync.Once
	closeErr  error
}

// Open opens the store in dir, creating it if needed.
//
// # Errors
//
//   - ErrLocked when another process (a running daemon) holds the store.
//   - ErrCorruptRepo when the on-disk layout is damaged.
func Open(ctx context.Context, dir string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ProvideTimeout == 0 {
		o.ProvideTimeout = DefaultProvideTimeout
	}
	if o.GCInterval == 0 {
		o.GCInterval = DefaultGCInterval
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	bdir := filepath.Join(dir, blocksDir)
	fds, err := flatfs.CreateOrOpen(bdir, flatfs.IPFS_DEF_SHARD, false)
	if err != nil {
		return nil, fmt.Errorf("%w: open block store %s: %v (move it away or restore it from a backup)", ErrCorruptRepo, bdir, err)
	}
	mdir := filepath.Join(dir, datastoreDir)
	lds, err := leveldb.NewDatastore(mdir, nil)
	if err != nil {
		fds.Close()
		if strings.Contains(err.Error(), "resource temporarily unavailable") || strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("%w: %s: %v (is `cloudless node` running on this repo?)", ErrLocked, mdir, err)
		}
		return nil, fmt.Errorf("%w: open metadata store %s: %v", ErrCorruptRepo, mdir, err)
	}

	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		dir:      dir,
		opts:     o,
		log:      o.Logger.With("part", "storage"),
		ctx:      sctx,
		cancel:   cancel,
		blocksDS: fds,
		metaDS:   lds,
		access:   newAccessLog(),
		wants:    newWantLog(),
		met:      newMetrics(o.Registerer),
	}
	s.raw = blockstore.NewBlockstore(fds, blockstore.NoPrefix())
	var bs blockstore.Blockstore = &blockstore.ValidatingBlockstore{Blockstore: s.raw}
	bs = blockstore.NewIdStore(bs)
	bs = &emptyStore{Blockstore: bs}
	bs = &accessBlockstore{Blockstore: bs, log: s.access}
	s.bstore = blockstore.NewGCBlockstore(bs, blockstore.NewGCLocker())
	s.offline = blockservice.New(s.bstore, nil)

	p, err := dspinner.New(ctx, pinDS{lds}, merkledag.NewDAGService(s.offline))
	if err != nil {
		s.closeStores()
		cancel()
		return nil, fmt.Errorf("%w: load pins: %v", ErrCorruptRepo, err)
	}
	p.SetAutosync(false) // commitPins flushes once per batch of adds
	s.pinner = p
	s.countPins(ctx)
	return s, nil
}

// ErrLocked is returned by Open when another process holds the store.
var ErrLocked = errors.New("storage: repo locked by another process")

// Dir is the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Close stops bitswap, waits for background provides and closes the
// on-disk stores. It is safe to call more than once. It does not close the
// libp2p host given to Serve (whoever creates a thing closes it).
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		bsw := s.bswap
		s.mu.Unlock()
		s.cancel()
		if bsw != nil {
			bsw.Close()
		}
		s.wg.Wait()
		s.gcMu.Lock() // wait for a running GC
		defer s.gcMu.Unlock()
		s.closeErr = s.closeStores()
	})
	return s.closeErr
}

func (s *Store) closeStores() error {
	var errs []error
	if s.pinner != nil {
		if c, ok := s.pinner.(interface{ Close() error }); ok {
			errs = append(errs, c.Close())
		}
	}
	errs = append(errs, s.metaDS.Close(), s.blocksDS.Close())
	return errors.Join(errs...)
}

func (s *Store) checkOpen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// Serve starts a bitswap client and server on h: from now on blocks
// missing locally are fetched from h's peers (and from providers found
// through r, if r is not nil), every fetched block is verified against its
// CID before it is stored, and local blocks are served to any peer. When r
// is not nil, what is added or pinned is announced with r.Provide (roots
// only). Serve returns at once; bitswap runs until Close. ctx is not kept.
//
// # Errors
//
//   - ErrServing if Serve was already called; ErrClosed after Close.
func (s *Store) Serve(ctx context.Context, h host.Host, r routing.ContentRouting) error {
	if h == nil {
		return errors.New("storage: Serve needs a libp2p host")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.bswap != nil {
		return ErrServing
	}
	var finder routing.ContentDiscovery
	if r != nil {
		finder = r
	}
	s.penalty = newPenaltyBox(h, s.wants, s.met, s.log)
	bsw := bitswap.New(s.ctx, bsnet.NewFromIpfsHost(h), finder, s.bstore,
		bitswap.WithTracer(&bitswapTracer{s: s}),
	)
	s.bswap = bsw
	s.host = h
	s.router = r
	s.online = blockservice.New(s.bstore, &recordingExchange{SessionExchange: bsw, wants: s.wants})
	if r != nil {
		s.provides = make(chan cid.Cid, provideQueue)
		for range provideWorkers {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.provideLoop(r)
			}()
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.reprovide()
		}()
	}
	if s.opts.CacheSize > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.gcLoop()
		}()
	}
	return nil
}

// gcLoop keeps a serving store under its cache budget.
func (s *Store) gcLoop() {
	t := time.NewTicker(s.opts.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if _, err := s.MaybeGC(s.ctx); err != nil && s.ctx.Err() == nil {
				s.log.Warn("garbage collection failed", "err", err)
			}
		}
	}
}

// blockService is the online block service when serving, else offline.
func (s *Store) blockService() blockservice.BlockService {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.online != nil {
		return s.online
	}
	return s.offline
}

func (s *Store) dagService() ipld.DAGService {
	return merkledag.NewDAGService(s.blockService())
}

// durable flushes what was written so far to stable storage.
func (s *Store) durable() error {
	if s.opts.NoSync {
		return nil
	}
	if err := syncDir(filepath.Join(s.dir, blocksDir)); err != nil {
		return fmt.Errorf("storage: sync: %w", err)
	}
	return nil
}

// Has reports whether the block c is stored locally.
func (s *Store) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if err := s.checkOpen(); err != nil {
		return false, err
	}
	return s.bstore.Has(ctx, c)
}

// Provides run on provideWorkers goroutines fed by a queue of
// provideQueue CIDs. A provider storing thousands of outputs used to start
// one goroutine per output (6,923 goroutines after 2,500 load-test jobs).
const (
	provideWorkers = 4
	provideQueue   = 4096
)

// provide announces c through the content router given to Serve, in the
// background. Provides are best effort: failures are logged at Debug, and
// a CID that finds the queue full is not announced now (the next start's
// reprovide announces every pin).
func (s *Store) provide(c cid.Cid) {
	s.mu.RLock()
	q := s.provides
	closed := s.closed
	s.mu.RUnlock()
	if q == nil || closed {
		return
	}
	select {
	case q <- c:
	default:
		s.log.Debug("provide queue full; announced at the next start", "cid", c)
	}
}

// provideLoop announces queued CIDs until the store closes.
func (s *Store) provideLoop(r routing.ContentRouting) {
	for {
		select {
		case <-s.ctx.Done():
			return
		case c := <-s.provides:
			ctx, cancel := context.WithTimeout(s.ctx, s.opts.ProvideTimeout)
			if err := r.Provide(ctx, c, true); err != nil {
				s.log.Debug("provide failed", "cid", c, "err", err)
			}
			cancel()
		}
	}
}

// reprovide queues every recursive pin for the provide workers once
// after Serve.
func (s *Store) reprovide() {
	for sp := range s.pinner.RecursiveKeys(s.ctx, false) {
		if sp.Err != nil {
			return
		}
		select {
		case s.provides <- sp.Pin.Key: // waits for room: the workers bound the rate
		case <-s.ctx.Done():
			return
		}
	}
}

// recordingExchange notes every CID this node asks bitswap for, so the
// tracer can tell a block we asked for from one pushed at us.
type recordingExchange struct {
	exchange.SessionExchange
	wants *wantLog
}

func (e *recordingExchange) GetBlock(ctx context.Context, c cid.Cid) (blkT, error) {
	e.wants.add(c)
	return e.SessionExchange.GetBlock(ctx, c)
}

func (e *recordingExchange) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blkT, error) {
	e.wants.add(ks...)
	return e.SessionExchange.GetBlocks(ctx, ks)
}

func (e *recordingExchange) NewSession(ctx context.Context) exchange.Fetcher {
	return &recordingFetcher{Fetcher: e.SessionExchange.NewSession(ctx), wants: e.wants}
}

type recordingFetcher struct {
	exchange.Fetcher
	wants *wantLog
}

func (f *recordingFetcher) GetBlock(ctx context.Context, c cid.Cid) (blkT, error) {
	f.wants.add(c)
	return f.Fetcher.GetBlock(ctx, c)
}

func (f *recordingFetcher) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blkT, error) {
	f.wants.add(ks...)
	return f.Fetcher.GetBlocks(ctx, ks)
}

var (
	_ exchange.SessionExchange = (*recordingExchange)(nil)
	_ ds.Batching              = (*flatfs.Datastore)(nil)
)
