package storage

import (
	"bytes"
	"context"
	"crypto/sha256"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// emptySHA256 is the sha2-256 multihash of zero bytes: the CID of every
// empty file (bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku).
var emptySHA256 = func() []byte {
	sum := sha256.Sum256(nil)
	h, _ := mh.Encode(sum[:], mh.SHA2_256)
	return h
}()

// emptyStore answers for the empty block without storing or fetching it.
// Bitswap servers (boxo's, so kubo's too) treat a block of size 0 as
// absent and never send it, so a DAG holding an empty file could not be
// fetched over bitswap; its bytes are known, so nobody needs to send them.
type emptyStore struct{ blockstore.Blockstore }

func isEmptyBlock(c cid.Cid) bool { return bytes.Equal(c.Hash(), emptySHA256) }

func (s *emptyStore) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if isEmptyBlock(c) {
		return true, nil
	}
	return s.Blockstore.Has(ctx, c)
}

func (s *emptyStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if isEmptyBlock(c) {
		return blocks.NewBlockWithCid(nil, c)
	}
	return s.Blockstore.Get(ctx, c)
}
