package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/storage"
)

// openStore opens the repo's IPFS store (repo/ipfs) for an offline
// command.
func openStore(ctx context.Context, g *globalFlags) (*storage.Store, error) {
	st, err := storage.Open(ctx, filepath.Join(g.repoPath(), "ipfs"), nil)
	if errors.Is(err, storage.ErrLocked) {
		return nil, fmt.Errorf("%w (stop the daemon to use this command offline)", err)
	}
	return st, err
}

func newRepoCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Maintain the node's IPFS store (verify, gc)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Re-hash every stored block and remove the corrupt ones",
		Long: `Reads every block in the repo's ipfs/ store, checks that it hashes to its
CID, and removes the ones that do not (or cannot be read). Then lists the
blocks of pinned content that are missing; fetch them again with
'cloudless pin add CID' while connected. Exits 1 when anything was wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := st.Verify(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json {
				if err := json.NewEncoder(out).Encode(rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "checked %d blocks (%d bytes)\n", rep.Checked, rep.Bytes)
				for _, c := range rep.Bad {
					fmt.Fprintf(out, "removed corrupt block %s\n", c)
				}
				for _, c := range rep.Missing {
					fmt.Fprintf(out, "missing block of pinned content %s\n", c)
				}
			}
			if !rep.OK() {
				return &ExitCodeError{Code: 1, Err: fmt.Errorf("repo verify: %d corrupt blocks removed, %d blocks of pinned content missing (re-fetch with `cloudless pin add CID` while online)", len(rep.Bad), len(rep.Missing))}
			}
			if !g.json {
				fmt.Fprintln(out, "repo ok")
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "gc",
		Short: "Remove every unpinned block from the store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.GC(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]int{"removed": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d blocks\n", n)
			return nil
		},
	})
	return cmd
}
