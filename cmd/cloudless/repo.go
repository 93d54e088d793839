package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
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
			rep, err := repoVerify(cmd.Context(), g)
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
			n, err := repoGC(cmd.Context(), g)
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

// repoVerify verifies the store through the daemon when one holds the
// repo, else offline; the report is the offline one either way.
func repoVerify(ctx context.Context, g *globalFlags) (storage.VerifyReport, error) {
	if dc, err := dialDaemon(g); err != nil {
		return storage.VerifyReport{}, err
	} else if dc != nil {
		r, err := dc.RepoVerify(ctx)
		if err == nil {
			rep := storage.VerifyReport{Checked: r.Checked, Bytes: r.Bytes}
			for _, l := range r.Bad {
				c, err := cid.Decode(l.CID)
				if err != nil {
					return rep, fmt.Errorf("repo verify through the daemon: bad CID %q in the answer: %w", l.CID, err)
				}
				rep.Bad = append(rep.Bad, c)
			}
			for _, l := range r.Missing {
				c, err := cid.Decode(l.CID)
				if err != nil {
					return rep, fmt.Errorf("repo verify through the daemon: bad CID %q in the answer: %w", l.CID, err)
				}
				rep.Missing = append(rep.Missing, c)
			}
			return rep, nil
		}
		if !errors.Is(err, client.ErrNoDaemon) {
			return storage.VerifyReport{}, fmt.Errorf("repo verify through the daemon: %w", err)
		}
		// stale api file: no daemon holds the repo, go on offline.
	}
	st, err := openStore(ctx, g)
	if err != nil {
		return storage.VerifyReport{}, err
	}
	defer st.Close()
	return st.Verify(ctx)
}

// repoGC collects garbage through the daemon when one holds the repo,
// else offline.
func repoGC(ctx context.Context, g *globalFlags) (int, error) {
	if dc, err := dialDaemon(g); err != nil {
		return 0, err
	} else if dc != nil {
		n, err := dc.RepoGC(ctx)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, client.ErrNoDaemon) {
			return 0, fmt.Errorf("repo gc through the daemon: %w", err)
		}
	}
	st, err := openStore(ctx, g)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.GC(ctx)
}
