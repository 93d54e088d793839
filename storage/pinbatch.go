package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	ds "github.com/ipfs/go-datastore"
	leveldb "github.com/ipfs/go-ds-leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Adds and pins are made durable in groups: concurrent adds share one
// syncfs of the block store and one synced write of the pin store, instead
// of one syncfs and four fsynced leveldb writes each under the pinner's
// global lock (docs/rationale/market-speed.md, "Why pin in batches?").

// pinDS is the metadata datastore as the pinner sees it: its writes are
// not fsynced one by one. commitPins makes a batch durable with one synced
// write: leveldb's journal is sequential, so a synced write makes every
// write before it durable too. A crash before that loses a suffix of the
// pinner's writes; its dirty flag, written first, makes the pinner rebuild
// its indexes at the next Open.
type pinDS struct{ *leveldb.Datastore }

func (d pinDS) Put(ctx context.Context, k ds.Key, v []byte) error {
	return d.DB.Put(k.Bytes(), v, &opt.WriteOptions{})
}

func (d pinDS) Delete(ctx context.Context, k ds.Key) error {
	return d.DB.Delete(k.Bytes(), &opt.WriteOptions{})
}

// syncedKey is written with fsync at the end of every pin batch.
var syncedKey = ds.NewKey("/local/cloudless/pins-synced")

// group runs one call of fn for every group of concurrent callers: a
// caller returns once an fn that started after its call succeeded (group
// commit). A failed fn is retried by the callers it did not cover.
type group struct {
	mu   sync.Mutex // held while fn runs
	gen  atomic.Uint64
	done uint64 // the last request covered; under mu
}

func (g *group) do(fn func() error) error {
	my := g.gen.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done >= my {
		return nil
	}
	cur := g.gen.Load()
	if err := fn(); err != nil {
		return err
	}
	g.done = cur
	return nil
}

// syncBlocks makes every block written so far durable (one syncfs for
// all concurrent callers).
func (s *Store) syncBlocks() error {
	if s.opts.NoSync {
		return nil
	}
	return s.blockSync.do(s.durable)
}

// commitPins flushes the pinner and makes its writes durable, once for
// all concurrent callers.
func (s *Store) commitPins(ctx context.Context) error {
	return s.pinSync.do(func() error {
		if err := s.pinner.Flush(ctx); err != nil {
			return err
		}
		if s.opts.NoSync {
			return nil
		}
		if err := s.metaDS.DB.Put(syncedKey.Bytes(), []byte{1}, &opt.WriteOptions{Sync: true}); err != nil {
			return fmt.Errorf("sync pins: %w", err)
		}
		return nil
	})
}

// pinGaugeEvery: the pin gauge counts the pins (a scan of the pin index)
// at most this often; a count that is due later runs in the background.
const pinGaugeEvery = time.Second

// updatePinGauge recounts the pins for the gauge now if the last count is
// older than pinGaugeEvery, else once when it is due. Counting on every
// add made each add O(pins).
func (s *Store) updatePinGauge(ctx context.Context) {
	s.gaugeMu.Lock()
	now := time.Now()
	if due := s.gaugeAt.Add(pinGaugeEvery); now.Before(due) {
		if !s.gaugeQueued {
			s.gaugeQueued = true
			time.AfterFunc(due.Sub(now), func() {
				s.gaugeMu.Lock()
				s.gaugeQueued = false
				s.gaugeMu.Unlock()
				s.updatePinGauge(s.ctx)
			})
		}
		s.gaugeMu.Unlock()
		return
	}
	s.gaugeAt = now
	s.gaugeMu.Unlock()
	s.countPins(ctx)
}

// countPins sets the pin gauge.
func (s *Store) countPins(ctx context.Context) {
	ps, err := s.PinList(ctx)
	if err == nil {
		s.met.Pins(len(ps))
	}
}
