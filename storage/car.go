package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	carv2 "github.com/ipld/go-car/v2"
	carstorage "github.com/ipld/go-car/v2/storage"
)

// ErrBadCAR is returned by ImportCAR for a malformed CAR or a block whose
// data does not hash to its CID; nothing from that CAR is kept unpinned
// beyond the blocks already verified.
var ErrBadCAR = errors.New("storage: bad CAR file")

// ExportCAR writes the DAG under c (every block, depth first, each once)
// to w as a CARv1 file with root c. Missing blocks are fetched when
// serving.
func (s *Store) ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	car, err := carstorage.NewWritable(w, []cid.Cid{c}, carv2.WriteAsCarV1(true), carv2.StoreIdentityCIDs(false))
	if err != nil {
		return fmt.Errorf("storage: car export: %w", err)
	}
	ng := dag.NewSession(ctx, s.dagService())
	seen := cid.NewSet()
	var walk func(c cid.Cid) error
	walk = func(c cid.Cid) error {
		if !seen.Visit(c) {
			return nil
		}
		nd, err := ng.Get(ctx, c)
		if err != nil {
			return err
		}
		if err := car.Put(ctx, c.KeyString(), nd.RawData()); err != nil {
			return err
		}
		for _, l := range nd.Links() {
			if err := walk(l.Cid); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(c); err != nil {
		var nf ipld.ErrNotFound
		if errors.As(err, &nf) || ctx.Err() != nil {
			return s.fetchErr(ctx, c, time.Now(), err)
		}
		return fmt.Errorf("storage: car export %s: %w", c, err)
	}
	return car.Finalize()
}

// ImportCAR reads a CARv1 or CARv2 file, verifies every block against its
// CID, stores the blocks and pins each root recursively when the root's
// DAG is complete (directly otherwise). It returns the roots.
func (s *Store) ImportCAR(ctx context.Context, r io.Reader) ([]cid.Cid, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	unlock := s.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	br, err := carv2.NewBlockReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCAR, err)
	}
	var batch []blocks.Block
	var batchSize int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.bstore.PutMany(ctx, batch)
		batch, batchSize = batch[:0], 0
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		blk, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadCAR, err)
		}
		want := blk.Cid()
		got, err := want.Prefix().Sum(blk.RawData())
		if err != nil || !got.Equals(want) {
			return nil, fmt.Errorf("%w: block %s does not match its hash", ErrBadCAR, want)
		}
		if want.Prefix().MhType == 0x00 { // identity: nothing to store
			continue
		}
		batch = append(batch, blk)
		batchSize += len(blk.RawData())
		if batchSize > 8<<20 {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("storage: car import: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("storage: car import: %w", err)
	}
	if err := s.durable(); err != nil {
		return nil, err
	}
	offline := dag.NewDAGService(s.offline)
	for _, root := range br.Roots {
		nd, err := offline.Get(ctx, root)
		if err != nil {
			return nil, fmt.Errorf("%w: root %s is not in the CAR", ErrBadCAR, root)
		}
		recursive := true
		if err := dag.Walk(ctx, dag.GetLinksDirect(offline), root, cid.NewSet().Visit); err != nil {
			s.log.Warn("CAR root DAG incomplete; pinning the root block only", "cid", root, "err", err)
			recursive = false
		}
		if err := s.pinner.Pin(ctx, nd, recursive, ""); err != nil {
			return nil, fmt.Errorf("storage: pin %s: %w", root, err)
		}
		s.provide(root)
	}
	if err := s.pinner.Flush(ctx); err != nil {
		return nil, err
	}
	s.updatePinGauge(ctx)
	return br.Roots, nil
}
