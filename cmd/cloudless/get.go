package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/storage"
)

func newGetCmd(g *globalFlags) *cobra.Command {
	var out, maxSize string
	var timeout time.Duration
	var peers []string
	cmd := &cobra.Command{
		Use:   "get CID [-o PATH]",
		Short: "Fetch a file or directory by CID and write it to disk",
		Long: `Writes the UnixFS file or directory CID to PATH (default: the CID, in the
current directory). Content already in the local store is read from it;
with --peer MULTIADDR (repeatable) this command starts a temporary libp2p
host, connects to those peers and fetches missing blocks over bitswap,
verifying every block against its CID. The fetched content is cached in the
repo (not pinned). Stops with an error after --timeout or above --max-size.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cid.Decode(args[0])
			if err != nil {
				return fmt.Errorf("%q is not a CID: %w", args[0], err)
			}
			limit, err := executor.ParseSize(maxSize)
			if err != nil {
				return fmt.Errorf("--max-size: %w", err)
			}
			if out == "" {
				out = c.String()
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			st, err := openStore(ctx, g)
			if err != nil {
				return err
			}
			defer st.Close()
			if len(peers) > 0 {
				if err := serveAndDial(ctx, st, peers); err != nil {
					return err
				}
			}
			var bar *progressbar.ProgressBar
			var progress func(int64)
			if stderrTTY() && !g.json {
				bar = progressbar.DefaultBytes(-1, "fetching")
				progress = func(n int64) { _ = bar.Set64(n) }
			}
			var written int64
			err = st.Get(ctx, c, out, int64(limit), func(n int64) {
				written = n
				if progress != nil {
					progress(n)
				}
			})
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				var nf *storage.NotFoundError
				if errors.As(err, &nf) && len(peers) == 0 {
					return fmt.Errorf("%w (not in the local store; pass --peer MULTIADDR to fetch from a peer)", err)
				}
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"cid": c.String(), "path": out, "bytes": written})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %s to %s (%d bytes)\n", c, out, written)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "where to write (default: ./CID)")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	f.StringVar(&maxSize, "max-size", "4GiB", "refuse content larger than this")
	f.StringArrayVar(&peers, "peer", nil, "fetch from this peer (multiaddr with /p2p/ID); repeatable")
	return cmd
}

// serveAndDial starts a temporary libp2p host (closed when ctx's command
// ends with the process) with bitswap on st, and connects to peers.
func serveAndDial(ctx context.Context, st *storage.Store, peers []string) error {
	h, err := libp2p.New(libp2p.NoListenAddrs)
	if err != nil {
		return fmt.Errorf("start libp2p host: %w", err)
	}
	context.AfterFunc(ctx, func() { h.Close() })
	if err := st.Serve(ctx, h, nil); err != nil {
		return err
	}
	var errs []error
	for _, a := range peers {
		ai, err := peer.AddrInfoFromString(a)
		if err != nil {
			return fmt.Errorf("--peer %s: %w (want /ip4/HOST/tcp/PORT/p2p/PEERID)", a, err)
		}
		if err := h.Connect(ctx, *ai); err != nil {
			errs = append(errs, fmt.Errorf("connect %s: %w", a, err))
		}
	}
	if len(errs) == len(peers) {
		return errors.Join(errs...)
	}
	return nil
}
