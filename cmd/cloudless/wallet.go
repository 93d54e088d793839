package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/market/wire"
	"github.com/cloudless-network/cloudless/node/client"
)

func newWalletCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Money: address, balance, channels, withdraw (through the running daemon)",
	}
	wallet := func(cmd *cobra.Command) (client.Wallet, *client.Client, error) {
		c, err := client.DialAPI(g.repoPath())
		if err != nil {
			return client.Wallet{}, nil, err
		}
		w, err := c.Wallet(cmd.Context())
		return w, c, err
	}
	cmd.AddCommand(
		&cobra.Command{
			Use: "address", Short: "The node's Ethereum address (and payout address)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				w, _, err := wallet(cmd)
				if err != nil {
					return err
				}
				if g.json {
					return jobPrintJSON(cmd.OutOrStdout(), map[string]string{"address": w.Address, "payout": w.Payout})
				}
				fmt.Fprintln(cmd.OutOrStdout(), w.Address)
				if w.Payout != "" && w.Payout != w.Address {
					fmt.Fprintf(cmd.OutOrStdout(), "payout: %s\n", w.Payout)
				}
				return nil
			},
		},
		&cobra.Command{
			Use: "balance", Short: "On-chain balance, withdrawable credits, earnings and spending", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				w, _, err := wallet(cmd)
				if err != nil {
					return err
				}
				if g.json {
					return jobPrintJSON(cmd.OutOrStdout(), w)
				}
				o := cmd.OutOrStdout()
				fmt.Fprintf(o, "address:      %s\nbalance:      %s\nwithdrawable: %s\nearned:       %s\nspent:        %s\n",
					w.Address, jobFormatWei(w.Balance), jobFormatWei(w.Withdrawable), jobFormatWei(w.Earned), jobFormatWei(w.Spent))
				return nil
			},
		},
		&cobra.Command{
			Use: "channels", Short: "Payment channels this node pays into or is paid from", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				w, _, err := wallet(cmd)
				if err != nil {
					return err
				}
				if g.json {
					return jobPrintJSON(cmd.OutOrStdout(), w.Channels)
				}
				if len(w.Channels) == 0 {
					_, err := fmt.Fprintln(cmd.OutOrStdout(), "no payment channels (a client opens one per provider with `cloudless run --pay channel`)")
					return err
				}
				// As payer (client): what was signed for jobs and what is
				// left of the deposit. As payee (provider): the best voucher
				// held, what was redeemed and what is still to redeem.
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CHANNEL\tROLE\tPEER\tDEPOSIT\tSPENT|BEST\tREMAINING|REDEEMED\tUNREDEEMED\tCREDIT\tSTATE")
				dash := func(s string) string {
					if s == "" {
						return "-"
					}
					return jobFormatWei(s)
				}
				for _, ch := range w.Channels {
					a, b, u := dash(ch.Spent), dash(ch.Remaining), "-"
					if ch.Role == "payee" {
						a, b, u = dash(ch.Best), dash(ch.Redeemed), dash(ch.Unredeemed)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shortHex(ch.ID), ch.Role, shortHex(ch.Peer), jobFormatWei(ch.Deposit),
						a, b, u, dash(ch.Credit), ch.State)
				}
				return tw.Flush()
			},
		},
		&cobra.Command{
			Use: "withdraw [AMOUNT]", Short: `Withdraw credits from the contract (AMOUNT like "0.5 ether"; default all)`, Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := client.DialAPI(g.repoPath())
				if err != nil {
					return err
				}
				amount := ""
				if len(args) == 1 {
					v, err := wire.ParseWei(args[0])
					if err != nil {
						return fmt.Errorf("amount %q: %w (e.g. \"0.5 ether\")", args[0], err)
					}
					amount = v.String()
				}
				res, err := c.Withdraw(cmd.Context(), amount)
				if err != nil {
					return err
				}
				if g.json {
					return jobPrintJSON(cmd.OutOrStdout(), res)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "withdrew %s (tx %s)\n", jobFormatWei(res.Amount), res.Tx)
				return err
			},
		},
	)
	return cmd
}

// shortHex shortens a 0x… hash or address for a table (0x1234…abcd).
func shortHex(s string) string {
	if len(s) <= 14 {
		return s
	}
	return s[:6] + "…" + s[len(s)-4:]
}
