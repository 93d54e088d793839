package storage

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Checked int       `json:"checked"`           // blocks read and re-hashed
	Bytes   int64     `json:"bytes"`             // bytes re-hashed
	Bad     []cid.Cid `json:"bad,omitempty"`     // blocks that did not hash to their key, or could not be read; removed
	Missing []cid.Cid `json:"missing,omitempty"` // blocks of pinned DAGs not present (after removal)
}

// OK reports whether the repo was sound.
func (r VerifyReport) OK() bool { return len(r.Bad) == 0 && len(r.Missing) == 0 }

// Verify re-hashes every stored block, removes the ones that do not match
// their CID (or cannot be read), and lists the blocks of pinned DAGs that
// are missing afterwards, which a later Pin or Get refetches from the
// network. Bad blocks are reported as CIDv1 raw of their multihash, the
// key the blockstore keeps.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	if err := s.checkOpen(); err != nil {
		return rep, err
	}
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	unlock := s.bstore.GCLock(ctx)
	keys, err := s.raw.AllKeysChan(ctx)
	if err != nil {
		unlock.Unlock(ctx)
		return rep, fmt.Errorf("storage: verify: %w", err)
	}
	for c := range keys {
		blk, err := s.raw.Get(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			rep.Bad = append(rep.Bad, c)
			continue
		}
		rep.Checked++
		rep.Bytes += int64(len(blk.RawData()))
		dec, err := mh.Decode(c.Hash())
		if err != nil {
			rep.Bad = append(rep.Bad, c)
			continue
		}
		sum, err := mh.Sum(blk.RawData(), dec.Code, dec.Length)
		if err != nil || string(sum) != string(c.Hash()) {
			rep.Bad = append(rep.Bad, c)
		}
	}
	if err := ctx.Err(); err != nil {
		unlock.Unlock(ctx)
		return rep, err
	}
	for _, c := range rep.Bad {
		if err := s.raw.DeleteBlock(ctx, c); err != nil {
			unlock.Unlock(ctx)
			return rep, fmt.Errorf("storage: verify: remove bad block %s: %w", c, err)
		}
		s.log.Warn("removed corrupt block", "cid", c)
	}
	_, missing, err := s.pinnedSet(ctx)
	unlock.Unlock(ctx)
	if err != nil {
		return rep, fmt.Errorf("storage: verify: %w", err)
	}
	rep.Missing = missing
	return rep, nil
}
