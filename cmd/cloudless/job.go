package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node/client"
)

func newJobCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "The client's jobs: list, status, result, cancel (through the running daemon)",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use: "list", Short: "List jobs, newest first", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := client.DialAPI(g.repoPath())
				if err != nil {
					return err
				}
				jobs, err := c.Jobs(cmd.Context())
				if err != nil {
					return err
				}
				if g.json {
					return jobPrintJSON(cmd.OutOrStdout(), jobs)
				}
				if len(jobs) == 0 {
					_, err := fmt.Fprintln(cmd.OutOrStdout(), "no jobs yet (start one with `cloudless run MODULE`)")
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tROLE\tSTATE\tPAY\tPRICE\tEXIT\tAGE")
				for _, j := range jobs {
					exit := "-"
					if j.ExitCode != nil {
						exit = fmt.Sprint(*j.ExitCode)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Role, j.State, j.Pay, jobFormatWei(j.Price), exit,
						time.Since(j.Created).Round(time.Second))
				}
				return tw.Flush()
			},
		},
		&cobra.Command{
			Use: "status ID", Short: "Show one job", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := client.DialAPI(g.repoPath())
				if err != nil {
					return err
				}
				j, err := c.Job(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if g.json {
					return jobPrintJSON(cmd.OutOrStdout(), j)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "id:       %s\nstate:    %s\nrole:     %s\nmodule:   %s\npay:      %s\nprice:    %s\n", j.ID, j.State, j.Role, j.Module, j.Pay, jobFormatWei(j.Price))
				if j.Provider != "" {
					fmt.Fprintf(w, "provider: %s\n", j.Provider)
				}
				if j.ExitCode != nil {
					fmt.Fprintf(w, "exit:     %d\n", *j.ExitCode)
				}
				if j.ResultCID != "" {
					fmt.Fprintf(w, "result:   %s\n", j.ResultCID)
				}
				if j.Error != "" {
					fmt.Fprintf(w, "error:    %s\n", j.Error)
				}
				return nil
			},
		},
		newJobResultCmd(g),
		&cobra.Command{
			Use: "cancel ID", Short: "Cancel a job that has not been awarded yet", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := client.DialAPI(g.repoPath())
				if err != nil {
					return err
				}
				return c.Cancel(cmd.Context(), args[0])
			},
		},
	)
	return cmd
}

func newJobResultCmd(g *globalFlags) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use: "result ID", Short: "Print a finished job's stdout and stderr; exits with its exit code", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := client.DialAPI(g.repoPath())
			if err != nil {
				return err
			}
			j, err := c.Job(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !terminalState(j.State) {
				return fmt.Errorf("job %s is %s; wait for it with `cloudless job status %s`", j.ID, j.State, j.ID)
			}
			return showResult(cmd.Context(), cmd, c, g, j, out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the job's /out files under DIR")
	return cmd
}
