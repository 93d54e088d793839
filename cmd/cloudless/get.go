package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/node/client"
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
repo (not pinned). Stops with an error after --timeout or above --max-size.

While a daemon holds the repo (and no --peer is given), the daemon fetches
the content from the network (its peers, the DHT) and streams it through
the control API: a file as it is, a directory as a tar stream that is
unpacked below PATH (files, directories and symlinks only; nothing is
written outside PATH).`,
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
			if dc, err := dialDaemon(g); err != nil {
				return err
			} else if dc != nil && len(peers) == 0 {
				// The daemon applies --timeout and answers 504 with why;
				// the grace lets that answer arrive.
				actx := cmd.Context()
				if timeout > 0 {
					var cancel context.CancelFunc
					actx, cancel = context.WithTimeout(actx, timeout+5*time.Second)
					defer cancel()
				}
				written, err := getViaAPI(actx, dc, c, out, client.GetOptions{Timeout: timeout, MaxSize: int64(limit)}, stderrTTY() && !g.json)
				if err == nil {
					return printSaved(cmd, g, c, out, written)
				}
				if !errors.Is(err, client.ErrNoDaemon) {
					return fmt.Errorf("get through the daemon: %w", err)
				}
				// stale api file: no daemon holds the repo, go on offline.
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
			return printSaved(cmd, g, c, out, written)
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

func printSaved(cmd *cobra.Command, g *globalFlags, c cid.Cid, out string, written int64) error {
	if g.json {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"cid": c.String(), "path": out, "bytes": written})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "saved %s to %s (%d bytes)\n", c, out, written)
	return nil
}

// getViaAPI streams the file c from the daemon into out, which must not
// exist; the partial file is removed on error. The byte count is checked
// against maxSize here too and against the size the daemon declared.
func getViaAPI(ctx context.Context, dc *client.Client, c cid.Cid, out string, opts client.GetOptions, showBar bool) (int64, error) {
	rc, size, isTar, err := dc.Fetch(ctx, c.String(), opts)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	if isTar {
		// A directory: the daemon fetched the whole tree (capped at
		// --max-size) and streams it as a tar.
		if err := os.Mkdir(out, 0o755); err != nil {
			return 0, err
		}
		n, err := client.Untar(rc, out, opts.MaxSize)
		if err != nil {
			os.RemoveAll(out)
			return 0, fmt.Errorf("%s: %w", c, err)
		}
		return n, nil
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	var r io.Reader = rc
	if opts.MaxSize > 0 {
		r = io.LimitReader(rc, opts.MaxSize+1)
	}
	var bar *progressbar.ProgressBar
	var w io.Writer = f
	if showBar {
		bar = progressbar.DefaultBytes(size, "fetching")
		w = io.MultiWriter(f, bar)
	}
	n, err := io.Copy(w, r)
	if bar != nil {
		_ = bar.Finish()
	}
	switch {
	case err != nil:
	case opts.MaxSize > 0 && n > opts.MaxSize:
		err = fmt.Errorf("%s is larger than --max-size %d bytes", c, opts.MaxSize)
	case size >= 0 && n != size:
		err = fmt.Errorf("%s: got %d bytes, the daemon announced %d", c, n, size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return 0, err
	}
	return n, nil
}
