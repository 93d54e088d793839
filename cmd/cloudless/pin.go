package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
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
			rows, err := listPins(cmd.Context(), g)
			if err != nil {
				return err
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rows)
			}
			for _, r := range rows {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", r.CID, r.Type)
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
			return eachPin(cmd, g, args, func(st pinStore, c cid.Cid) error {
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
			return eachPin(cmd, g, args, func(st pinStore, c cid.Cid) error {
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

// pinStore is what pin add and rm need: the store itself offline, the
// daemon's control API while a daemon holds the repo.
type pinStore interface {
	Pin(ctx context.Context, c cid.Cid, recursive bool) error
	Unpin(ctx context.Context, c cid.Cid, recursive bool) error
}

// apiPins is a pinStore over the control API.
type apiPins struct{ c *client.Client }

func (a apiPins) Pin(ctx context.Context, c cid.Cid, recursive bool) error {
	return a.c.Pin(ctx, c.String(), !recursive)
}

func (a apiPins) Unpin(ctx context.Context, c cid.Cid, recursive bool) error {
	return a.c.Unpin(ctx, c.String(), !recursive)
}

// listPins lists the pins through the daemon when one holds the repo,
// else from the store.
func listPins(ctx context.Context, g *globalFlags) ([]client.Pin, error) {
	if dc, err := dialDaemon(g); err != nil {
		return nil, err
	} else if dc != nil {
		rows, err := dc.Pins(ctx)
		if err == nil {
			return rows, nil
		}
		if !errors.Is(err, client.ErrNoDaemon) {
			return nil, err
		}
	}
	st, err := openStore(ctx, g)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ps, err := st.PinList(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]client.Pin, 0, len(ps))
	for _, p := range ps {
		t := "direct"
		if p.Recursive {
			t = "recursive"
		}
		rows = append(rows, client.Pin{CID: p.Cid.String(), Type: t})
	}
	return rows, nil
}

// eachPin parses every argument as a CID, then calls fn for each with the
// daemon's API when a daemon holds the repo (probed with GET /v1/pins),
// else with the store opened once.
func eachPin(cmd *cobra.Command, g *globalFlags, args []string, fn func(pinStore, cid.Cid) error) error {
	cids := make([]cid.Cid, 0, len(args))
	for _, a := range args {
		c, err := cid.Decode(a)
		if err != nil {
			return fmt.Errorf("%q is not a CID: %w", a, err)
		}
		cids = append(cids, c)
	}
	var ps pinStore
	if dc, err := dialDaemon(g); err != nil {
		return err
	} else if dc != nil {
		if _, err := dc.Pins(cmd.Context()); err == nil {
			ps = apiPins{dc}
		} else if !errors.Is(err, client.ErrNoDaemon) {
			return err
		}
	}
	if ps == nil {
		st, err := openStore(cmd.Context(), g)
		if err != nil {
			return err
		}
		defer st.Close()
		ps = st
	}
	for _, c := range cids {
		if err := fn(ps, c); err != nil {
			return err
		}
	}
	return nil
}
