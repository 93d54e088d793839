package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/storage"
)

// progressMin is the input size above which publish and get draw a
// progress bar on a terminal.
const progressMin = 8 << 20

func newPublishCmd(g *globalFlags) *cobra.Command {
	var quiet, recursive, hidden, noPin bool
	cmd := &cobra.Command{
		Use:   "publish [-q] [-r] PATH",
		Short: "Add a file or directory to IPFS and print its CID",
		Long: `Adds PATH to the node's IPFS store and pins it, so the node serves it to
any IPFS peer. The CID is the one kubo's 'ipfs add --cid-version=1 PATH'
prints ('ipfs add -r --cid-version=1 DIR' for -r): CIDv1, raw leaves,
256 KiB chunks, balanced DAG; dot files are skipped unless --hidden.

Works offline on the repo when no daemon runs; the daemon announces the CID
when it next starts (pinned content is provided at start). While a daemon
holds the repo, the content is sent to it through the control API (a
directory as a tar stream) and it announces the CID at once; the CID is
the same either way.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			st0, err := os.Stat(path)
			if err != nil {
				return err
			}
			if st0.IsDir() && !recursive {
				return fmt.Errorf("%s is a directory; use -r to publish it", path)
			}
			total := inputSize(path, hidden)
			name := filepath.Base(filepath.Clean(path))
			if c, err := dialDaemon(g); err != nil {
				return err
			} else if c != nil {
				var bar *progressbar.ProgressBar
				if !quiet && total >= progressMin && stderrTTY() {
					bar = progressbar.DefaultBytes(total, "publishing")
				}
				res, err := publishViaAPI(cmd.Context(), c, path, name, st0.IsDir(), client.PublishOptions{Hidden: hidden, NoPin: noPin}, bar)
				if err == nil {
					pc, err := cid.Decode(res.CID)
					if err != nil {
						return fmt.Errorf("daemon answered a bad CID %q: %w", res.CID, err)
					}
					return printPublished(cmd, g, quiet, pc, name, total)
				}
				if !errors.Is(err, client.ErrNoDaemon) {
					return fmt.Errorf("publish through the daemon: %w", err)
				}
				// stale api file: no daemon holds the repo, go on offline.
			}
			store, err := openStore(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer store.Close()

			opts := []storage.AddOption{storage.WithHidden(hidden), storage.WithPin(!noPin)}
			var bar *progressbar.ProgressBar
			if !quiet && total >= progressMin && stderrTTY() {
				bar = progressbar.DefaultBytes(total, "publishing")
				opts = append(opts, storage.WithProgress(func(n int64) { _ = bar.Set64(n) }))
			}
			c, err := store.AddPath(cmd.Context(), path, opts...)
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				return err
			}
			return printPublished(cmd, g, quiet, c, name, total)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the CID")
	f.BoolVarP(&recursive, "recursive", "r", false, "publish a directory")
	f.BoolVar(&hidden, "hidden", false, "include files whose names start with a dot")
	f.BoolVar(&noPin, "no-pin", false, "do not pin (the content may be garbage collected)")
	return cmd
}

func printPublished(cmd *cobra.Command, g *globalFlags, quiet bool, c cid.Cid, name string, size int64) error {
	out := cmd.OutOrStdout()
	switch {
	case g.json:
		return json.NewEncoder(out).Encode(map[string]any{"cid": c.String(), "name": name, "size": size})
	case quiet:
		_, err := fmt.Fprintln(out, c)
		return err
	default:
		_, err := fmt.Fprintf(out, "added %s %s\n", c, name)
		return err
	}
}

// inputSize is the total size of the regular files publish will read.
func inputSize(path string, hidden bool) int64 {
	var total int64
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !hidden && p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	if total == 0 {
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			total = st.Size()
		}
	}
	return total
}

// stderrTTY reports whether stderr is a terminal (progress bars go there).
func stderrTTY() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// dialDaemon returns a control API client when a daemon holds the repo,
// nil when none does (commands then open the store directly).
func dialDaemon(g *globalFlags) (*client.Client, error) {
	c, err := client.DialAPI(g.repoPath())
	if errors.Is(err, client.ErrNoDaemon) {
		return nil, nil
	}
	return c, err
}

// publishViaAPI sends a file's bytes, or a directory as a tar stream, to
// the daemon.
func publishViaAPI(ctx context.Context, c *client.Client, path, name string, dir bool, opts client.PublishOptions, bar *progressbar.ProgressBar) (client.PublishResult, error) {
	if bar != nil {
		defer bar.Finish()
	}
	if !dir {
		f, err := os.Open(path)
		if err != nil {
			return client.PublishResult{}, err
		}
		defer f.Close()
		return c.PublishFile(ctx, withBar(f, bar), name, opts)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := client.WriteTar(pw, path, opts.Hidden)
		pw.CloseWithError(err)
		done <- err
	}()
	res, err := c.PublishTar(ctx, withBar(pr, bar), name, opts)
	pr.CloseWithError(errors.New("request ended"))
	if terr := <-done; terr != nil && err == nil {
		err = terr
	}
	return res, err
}

// withBar counts what r yields on bar (nil: r as it is).
func withBar(r io.Reader, bar *progressbar.ProgressBar) io.Reader {
	if bar == nil {
		return r
	}
	return io.TeeReader(r, bar)
}
