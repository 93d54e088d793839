package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/ipfs/boxo/blockstore"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Pin is one pinned root.
type Pin struct {
	Cid       cid.Cid
	Recursive bool
}

// Pin pins c: recursively (c and every block below it) or directly (c
// only). Missing blocks are fetched when serving, within ctx.
func (s *Store) Pin(ctx context.Context, c cid.Cid, recursive bool) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	unlock := s.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	dserv := s.dagService()
	nd, err := s.getRoot(ctx, dag.NewSession(ctx, dserv), c)
	if err != nil {
		return err
	}
	if err := s.pinner.Pin(ctx, nd, recursive, ""); err != nil {
		return fmt.Errorf("storage: pin %s: %w", c, s.fetchErr(ctx, c, time.Now(), err))
	}
	if err := s.syncBlocks(); err != nil {
		return err
	}
	if err := s.commitPins(ctx); err != nil {
		return fmt.Errorf("storage: pin %s: %w", c, err)
	}
	s.updatePinGauge(ctx)
	s.provide(c)
	return nil
}

// Unpin removes the pin on c. recursive must match how it was pinned.
func (s *Store) Unpin(ctx context.Context, c cid.Cid, recursive bool) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := s.pinner.Unpin(ctx, c, recursive); err != nil {
		return fmt.Errorf("storage: unpin %s: %w", c, err)
	}
	if err := s.commitPins(ctx); err != nil {
		return fmt.Errorf("storage: unpin %s: %w", c, err)
	}
	s.updatePinGauge(ctx)
	return nil
}

// ErrNotPinned is returned by Unpin when c is not pinned.
var ErrNotPinned = pin.ErrNotPinned

// Pins lists the pinned roots, recursive and direct.
func (s *Store) Pins(ctx context.Context) ([]cid.Cid, error) {
	ps, err := s.PinList(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cid.Cid, len(ps))
	for i, p := range ps {
		out[i] = p.Cid
	}
	return out, nil
}

// PinList lists the pinned roots with their mode, sorted by CID.
func (s *Store) PinList(ctx context.Context) ([]Pin, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var out []Pin
	for sp := range s.pinner.RecursiveKeys(ctx, false) {
		if sp.Err != nil {
			return nil, sp.Err
		}
		out = append(out, Pin{Cid: sp.Pin.Key, Recursive: true})
	}
	for sp := range s.pinner.DirectKeys(ctx, false) {
		if sp.Err != nil {
			return nil, sp.Err
		}
		out = append(out, Pin{Cid: sp.Pin.Key})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cid.String() < out[j].Cid.String() })
	return out, nil
}

// pinnedSet is every block reachable from a pin that is present locally,
// keyed by multihash; missing lists the blocks of pinned DAGs that are not.
func (s *Store) pinnedSet(ctx context.Context) (keep map[string]struct{}, missing []cid.Cid, err error) {
	keep = make(map[string]struct{})
	offline := dag.NewDAGService(s.offline)
	seen := cid.NewSet()
	getLinks := func(ctx context.Context, c cid.Cid) ([]*ipld.Link, error) {
		if c.Prefix().Codec == cid.Raw { // a leaf: no need to read it
			if has, err := s.raw.Has(ctx, c); err != nil {
				return nil, err
			} else if !has {
				missing = append(missing, c)
				return nil, nil
			}
			keep[string(c.Hash())] = struct{}{}
			return nil, nil
		}
		links, err := dag.GetLinksDirect(offline)(ctx, c)
		if err != nil {
			if ipld.IsNotFound(err) || errors.Is(err, blockstore.ErrHashMismatch) {
				missing = append(missing, c)
				return nil, nil
			}
			return nil, err
		}
		keep[string(c.Hash())] = struct{}{}
		return links, nil
	}
	for sp := range s.pinner.RecursiveKeys(ctx, false) {
		if sp.Err != nil {
			return nil, nil, sp.Err
		}
		if err := dag.Walk(ctx, getLinks, sp.Pin.Key, seen.Visit); err != nil {
			return nil, nil, err
		}
	}
	for sp := range s.pinner.DirectKeys(ctx, false) {
		if sp.Err != nil {
			return nil, nil, sp.Err
		}
		keep[string(sp.Pin.Key.Hash())] = struct{}{}
	}
	return keep, missing, nil
}

// GC removes every unpinned block and returns how many it removed.
func (s *Store) GC(ctx context.Context) (int, error) {
	return s.gc(ctx, -1)
}

// MaybeGC runs a garbage collection when the blockstore uses more than
// Options.CacheSize bytes, removing unpinned blocks least recently used
// first until usage is under 90% of it. It returns the blocks removed.
func (s *Store) MaybeGC(ctx context.Context) (int, error) {
	if s.opts.CacheSize < 0 {
		return 0, nil
	}
	usage, err := s.blocksDS.DiskUsage(ctx)
	if err != nil {
		return 0, err
	}
	if int64(usage) <= s.opts.CacheSize {
		return 0, nil
	}
	target := int64(float64(s.opts.CacheSize) * gcLowWater)
	return s.gc(ctx, int64(usage)-target)
}

// DiskUsage is the bytes the blockstore uses on disk.
func (s *Store) DiskUsage(ctx context.Context) (int64, error) {
	u, err := s.blocksDS.DiskUsage(ctx)
	return int64(u), err
}

// gc removes unpinned blocks, least recently used first, until it freed
// at least free bytes (free < 0: all of them).
func (s *Store) gc(ctx context.Context, free int64) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	unlock := s.bstore.GCLock(ctx)
	defer unlock.Unlock(ctx)

	keep, _, err := s.pinnedSet(ctx)
	if err != nil {
		return 0, fmt.Errorf("storage: gc: %w", err)
	}
	keys, err := s.raw.AllKeysChan(ctx)
	if err != nil {
		return 0, fmt.Errorf("storage: gc: %w", err)
	}
	type cand struct {
		c    cid.Cid
		last int64
	}
	var cands []cand
	for c := range keys {
		if _, ok := keep[string(c.Hash())]; ok {
			continue
		}
		cands = append(cands, cand{c, s.access.last(c).UnixNano()})
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].last < cands[j].last })
	removed := 0
	var freed int64
	for _, cd := range cands {
		if free >= 0 && freed >= free {
			break
		}
		size, _ := s.raw.GetSize(ctx, cd.c)
		if err := s.raw.DeleteBlock(ctx, cd.c); err != nil {
			return removed, fmt.Errorf("storage: gc: remove %s: %w", cd.c, err)
		}
		s.access.forget(cd.c)
		freed += int64(size)
		removed++
	}
	s.met.GCRemoved(removed)
	if removed > 0 {
		s.log.Debug("garbage collected", "blocks", removed, "bytes", freed)
	}
	return removed, nil
}
