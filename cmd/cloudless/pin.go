package main

import (
	"encoding/json"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/storage"
)

func newPinCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "List, add and remove pins (pinned content is never garbage collected)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ls",
		Short: "List pinned CIDs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
			ps, err := st.PinList(cmd.Context())
			if err != nil {
				return err
			}
			type row struct {
				Cid  string `json:"cid"`
				Type string `json:"type"`
			}
			rows := make([]row, 0, len(ps))
			for _, p := range ps {
				t := "direct"
				if p.Recursive {
					t = "recursive"
				}
				rows = append(rows, row{p.Cid.String(), t})
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rows)
			}
			for _, r := range rows {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", r.Cid, r.Type)
			}
			return nil
		},
	})
	var direct bool
	add := &cobra.Command{
		Use:   "add CID...",
		Short: "Pin content already in the local store (recursively unless --direct)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachPin(cmd, g, args, func(st *storage.Store, c cid.Cid) error {
				if err := st.Pin(cmd.Context(), c, !direct); err != nil {
					return fmt.Errorf("%w (fetch it first with `cloudless get`)", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "pinned %s\n", c)
				return nil
			})
		},
	}
	add.Flags().BoolVar(&direct, "direct", false, "pin only the root block")
	cmd.AddCommand(add)
	var rmDirect bool
	rm := &cobra.Command{
		Use:   "rm CID...",
		Short: "Unpin (the blocks stay until `cloudless repo gc`)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachPin(cmd, g, args, func(st *storage.Store, c cid.Cid) error {
				if err := st.Unpin(cmd.Context(), c, !rmDirect); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "unpinned %s\n", c)
				return nil
			})
		},
	}
	rm.Flags().BoolVar(&rmDirect, "direct", false, "remove a direct pin")
	cmd.AddCommand(rm)
	return cmd
}

// eachPin parses every argument as a CID, then opens the store once and
// calls fn for each.
func eachPin(cmd *cobra.Command, g *globalFlags, args []string, fn func(*storage.Store, cid.Cid) error) error {
	cids := make([]cid.Cid, 0, len(args))
	for _, a := range args {
		c, err := cid.Decode(a)
		if err != nil {
			return fmt.Errorf("%q is not a CID: %w", a, err)
		}
		cids = append(cids, c)
	}
	st, err := openStore(cmd.Context(), g)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, c := range cids {
		if err := fn(st, c); err != nil {
			return err
		}
	}
	return nil
}
