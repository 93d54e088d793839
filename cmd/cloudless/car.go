package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/storage"
)

func newCarCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "car",
		Short: "Export and import CAR files for offline transfer",
	}
	var out string
	exp := &cobra.Command{
		Use:   "export CID",
		Short: "Write the DAG under CID as a CARv1 file (to -o FILE or stdout)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			c, err := cid.Decode(args[0])
			if err != nil {
				return fmt.Errorf("%q is not a CID: %w", args[0], err)
			}
			var w io.Writer = cmd.OutOrStdout()
			if out == "" || out == "-" {
				if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return fmt.Errorf("refusing to write a binary CAR to a terminal; pass -o FILE or redirect stdout")
				}
			}
			// Through the daemon's control API while a daemon holds the
			// repo, else from the store.
			dc, err := dialDaemon(g)
			if err != nil {
				return err
			}
			var st *storage.Store
			if dc == nil {
				if st, err = openStore(cmd.Context(), g); err != nil {
					return err
				}
				defer st.Close()
			}
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer func() {
					if cerr := f.Close(); err == nil {
						err = cerr
					}
					if err != nil {
						os.Remove(out)
					}
				}()
				w = f
			}
			if dc != nil {
				// The daemon exports before its first byte: an error
				// (ErrNoDaemon included) leaves w untouched.
				err = dc.ExportCAR(cmd.Context(), c.String(), w)
				if err == nil {
					return nil
				}
				if !errors.Is(err, client.ErrNoDaemon) {
					return fmt.Errorf("car export through the daemon: %w", err)
				}
				// stale api file: no daemon holds the repo, go on offline.
				if st, err = openStore(cmd.Context(), g); err != nil {
					return err
				}
				defer st.Close()
			}
			return st.ExportCAR(cmd.Context(), c, w)
		},
	}
	exp.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	cmd.AddCommand(exp)
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE...",
		Short: "Import CAR files (\"-\" is stdin); every block is verified, roots are pinned",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			imp, closeImp, err := carImporter(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeImp()
			var all []string
			for _, a := range args {
				var r io.Reader = cmd.InOrStdin()
				if a != "-" {
					f, err := os.Open(a)
					if err != nil {
						return err
					}
					defer f.Close()
					r = f
				}
				roots, err := imp(cmd.Context(), r)
				if err != nil {
					return fmt.Errorf("%s: %w", a, err)
				}
				for _, c := range roots {
					all = append(all, c)
					if !g.json {
						fmt.Fprintf(cmd.OutOrStdout(), "imported %s\n", c)
					}
				}
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string][]string{"roots": all})
			}
			return nil
		},
	})
	return cmd
}

// carImporter returns the import function of `car import`: the daemon's
// control API while a daemon holds the repo (probed with GET /v1/pins, so
// a stale api file is found before any input is read), else the store,
// opened once; closeFn releases it.
func carImporter(ctx context.Context, g *globalFlags) (imp func(context.Context, io.Reader) ([]string, error), closeFn func(), err error) {
	if dc, err := dialDaemon(g); err != nil {
		return nil, nil, err
	} else if dc != nil {
		if _, err := dc.Pins(ctx); err == nil {
			return func(ctx context.Context, r io.Reader) ([]string, error) {
				roots, err := dc.ImportCAR(ctx, r)
				if err != nil {
					return nil, fmt.Errorf("car import through the daemon: %w", err)
				}
				return roots, nil
			}, func() {}, nil
		} else if !errors.Is(err, client.ErrNoDaemon) {
			return nil, nil, err
		}
	}
	st, err := openStore(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	return func(ctx context.Context, r io.Reader) ([]string, error) {
		roots, err := st.ImportCAR(ctx, r)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(roots))
		for _, c := range roots {
			out = append(out, c.String())
		}
		return out, nil
	}, func() { st.Close() }, nil
}
