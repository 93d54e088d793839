package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

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
when it next starts (pinned content is provided at start).`,
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
			return printPublished(cmd, g, quiet, c, filepath.Base(filepath.Clean(path)), total)
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
