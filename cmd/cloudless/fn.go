package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/trigger"
)

func newFnCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fn",
		Short: "Deployed functions: list, logs, rm, emit (through the running daemon)",
	}
	printJSON := func(w io.Writer, v any) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	dial := func() (*client.Client, error) { return client.DialAPI(g.repoPath()) }
	var n int
	logs := &cobra.Command{
		Use: "logs NAME [-n 20]", Short: "Show a function's last invocations, oldest first", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial()
			if err != nil {
				return err
			}
			recs, err := c.FunctionLogs(cmd.Context(), args[0], n)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), recs)
			}
			if len(recs) == 0 {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s has not run yet\n", args[0])
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tTRIGGER\tDETAIL\tJOB\tPROVIDER\tEXIT\tTOOK\tPRICE\tOUTPUT/ERROR")
			for _, r := range recs {
				exit, result := fmt.Sprint(r.ExitCode), r.OutputCID
				if r.Error != "" {
					exit, result = "-", r.Error
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.Local().Format(time.DateTime), r.Trigger, dash(r.Detail),
					dash(r.JobID), dash(shortPeer(r.Provider)), exit, time.Duration(r.DurationMS*float64(time.Millisecond)).Round(time.Millisecond),
					formatEther(r.Price)+" ETH", dash(result))
			}
			return tw.Flush()
		},
	}
	logs.Flags().IntVarP(&n, "n", "n", 20, "how many records (0: all kept)")
	cmd.AddCommand(
		&cobra.Command{
			Use: "list", Short: "List deployed functions with their triggers and spending today", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := dial()
				if err != nil {
					return err
				}
				l, err := c.Functions(cmd.Context())
				if err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), l)
				}
				if len(l.Functions) == 0 {
					_, err := fmt.Fprintln(cmd.OutOrStdout(), "no functions deployed (deploy some with `cloudless deploy`)")
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FUNCTION\tWHERE\tSPENT TODAY\tRUNS\tLAST\tTRIGGERS")
				for _, fn := range l.Functions {
					where, spent := "market", formatEther(fn.SpentToday)+" / "+formatEther(fn.DailyCap)+" ETH"
					if fn.Local {
						where, spent = "local", "-"
					}
					last := "-"
					if fn.Last != nil {
						last = time.Since(fn.Last.Time).Round(time.Second).String() + " ago"
						if fn.Last.Error != "" {
							last += " (failed)"
						}
					}
					trs := triggerSummary(fn, l.Gateway)
					if len(fn.Errors) > 0 {
						trs += " [" + strings.Join(fn.Errors, "; ") + "]"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", fn.Name, where, spent, fn.Invocations, last, trs)
				}
				return tw.Flush()
			},
		},
		logs,
		&cobra.Command{
			Use: "rm NAME", Short: "Remove a deployed function and stop its triggers", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := dial()
				if err != nil {
					return err
				}
				if err := c.RemoveFunction(cmd.Context(), args[0]); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), map[string]string{"removed": args[0]})
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
				return err
			},
		},
		&cobra.Command{
			Use:   "emit TOPIC [FILE|-]",
			Short: "Publish a message on a topic, firing its topic triggers on every node",
			Long: `Publishes FILE (or stdin, with - or no FILE) as one message, signed by the
daemon, on the gossip topic ` + trigger.TopicPrefix + `TOPIC. Every function with
a topic trigger on TOPIC, on this node or another, runs with the message as
stdin. A message is at most 64 KiB: send a CID for more.`,
			Args: cobra.RangeArgs(1, 2),
			RunE: func(cmd *cobra.Command, args []string) error {
				var r io.Reader = cmd.InOrStdin()
				if len(args) == 2 && args[1] != "-" {
					f, err := os.Open(args[1])
					if err != nil {
						return err
					}
					defer f.Close()
					r = f
				}
				data, err := io.ReadAll(io.LimitReader(r, trigger.MaxTopicMessage+1))
				if err != nil {
					return err
				}
				if len(data) > trigger.MaxTopicMessage {
					return fmt.Errorf("the message is over %d bytes: publish the data (`cloudless publish`) and emit its CID", trigger.MaxTopicMessage)
				}
				c, err := dial()
				if err != nil {
					return err
				}
				if err := c.Emit(cmd.Context(), args[0], strings.NewReader(string(data))); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), map[string]any{"topic": trigger.TopicPrefix + args[0], "bytes": len(data)})
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "sent %d bytes on %s%s\n", len(data), trigger.TopicPrefix, args[0])
				return err
			},
		},
	)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortPeer clips a peer ID for tables.
func shortPeer(p string) string {
	if len(p) > 16 {
		return p[:6] + "…" + p[len(p)-6:]
	}
	return p
}
