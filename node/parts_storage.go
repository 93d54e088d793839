package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/ipfs/go-cid"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/storage"
)

// startStorage opens the IPFS store in the repo and serves it over bitswap
// on the p2p host (so it starts after p2p and stops before it).
func (n *Node) startStorage(ctx context.Context) error {
	st, err := storage.Open(ctx, filepath.Join(n.repo, StorageDir), &storage.Options{
		CacheSize:  int64(n.cfg.Storage.CacheSize),
		Logger:     n.log.With("part", "storage"),
		Registerer: n.reg,
	})
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	n.store = st
	n.onClose("storage", func(context.Context) error { return st.Close() })
	if n.p2p != nil {
		if err := st.Serve(ctx, n.p2p.Host(), n.p2p.DHT()); err != nil {
			return fmt.Errorf("storage: serve bitswap: %w", err)
		}
	}
	n.svc.Content = contentService{st}
	n.setPart("storage", true, "")
	return nil
}

// contentService answers /v1/publish and /v1/get from the store.
type contentService struct{ st *storage.Store }

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

func (s contentService) Add(ctx context.Context, r io.Reader, name string) (client.PublishResult, error) {
	cr := &countReader{r: r}
	c, err := s.st.AddFile(ctx, cr)
	if err != nil {
		return client.PublishResult{}, fmt.Errorf("publish %s: %w", name, err)
	}
	return client.PublishResult{CID: c.String(), Size: cr.n}, nil
}

func (s contentService) Cat(ctx context.Context, cidStr string) (io.ReadCloser, error) {
	c, err := cid.Decode(cidStr)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a CID: %v", ErrBadRequest, cidStr, err)
	}
	rc, _, err := s.st.Open(ctx, c)
	switch {
	case err == nil:
		return rc, nil
	case errors.Is(err, storage.ErrNotFound):
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, storage.ErrNotUnixFS):
		return nil, fmt.Errorf("%w: %w (fetch directories with `cloudless get -o DIR`)", ErrBadRequest, err)
	case errors.Is(err, storage.ErrTimeout):
		return nil, fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return nil, err
}
