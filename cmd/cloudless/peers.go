package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
)

func newPeersCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List connected peers (through the running daemon)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client.DialAPI(g.repoPath())
			if err != nil {
				return err
			}
			ps, err := c.Peers(cmd.Context())
			if err != nil {
				return err
			}
			return printPeers(cmd.OutOrStdout(), g.json, ps)
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "connect MULTIADDR",
		Short: "Dial a peer, e.g. /ip4/10.0.0.5/tcp/4001/p2p/16Uiu2...",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client.DialAPI(g.repoPath())
			if err != nil {
				return err
			}
			if err := c.Connect(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("connect %s: %w", args[0], err)
			}
			if g.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]string{"connected": args[0]})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "connected to %s\n", args[0])
			return nil
		},
	})
	return cmd
}

func printPeers(w io.Writer, asJSON bool, ps []client.Peer) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ps)
	}
	if len(ps) == 0 {
		_, err := fmt.Fprintln(w, "no peers connected (dial one with `cloudless peers connect MULTIADDR`)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tDIRECTION\tADDRESS")
	for _, p := range ps {
		addr := ""
		if len(p.Addrs) > 0 {
			addr = p.Addrs[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ID, p.Direction, addr)
	}
	return tw.Flush()
}
