package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"
	"golang.org/x/term"
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
			st, err := openStore(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
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
			st, err := openStore(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
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
				roots, err := st.ImportCAR(cmd.Context(), r)
				if err != nil {
					return fmt.Errorf("%s: %w", a, err)
				}
				for _, c := range roots {
					all = append(all, c.String())
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
