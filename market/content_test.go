package market_test

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/storage"
)

// storeContent adapts the real IPFS store (on-disk blockstore in
// t.TempDir, bitswap on the node's mocknet host) to market.Content, the
// way node does.
type storeContent struct{ st *storage.Store }

var _ market.Content = storeContent{}

func (s storeContent) Cat(ctx context.Context, c string, max int64) ([]byte, error) {
	id, err := cid.Decode(c)
	if err != nil {
		return nil, fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.ReadFile(ctx, id, max)
}

func (s storeContent) Fetch(ctx context.Context, c string, dst string) error {
	id, err := cid.Decode(c)
	if err != nil {
		return fmt.Errorf("bad CID %q: %w", c, err)
	}
	return s.st.Get(ctx, id, dst, 0, nil)
}

func (s storeContent) AddDir(ctx context.Context, dir string) (string, error) {
	id, err := s.st.AddPath(ctx, dir, storage.WithHidden(true))
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

func (s storeContent) AddBytes(b []byte) (string, error) {
	id, err := s.st.AddBytes(context.Background(), b)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
