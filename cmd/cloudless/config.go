package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/cloudless-network/cloudless/node"
	"github.com/cloudless-network/cloudless/node/client"
)

func newConfigCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the node configuration",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (config.yaml < CLOUDLESS_* env < the daemon's flags)",
		Long: `Prints the configuration in effect. While a daemon holds the repo, that is the
daemon's (including the flags it was started with); otherwise config.yaml with
the CLOUDLESS_* environment overrides of this shell applied.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo := g.repoPath()
			var cfg any
			src := "daemon"
			c, err := client.DialAPI(repo)
			if err == nil {
				var dc node.Config
				if err = c.Do(cmd.Context(), "GET", "/v1/config", nil, &dc); err == nil {
					cfg = &dc
				}
			}
			if err != nil {
				if !errors.Is(err, client.ErrNoDaemon) {
					return err
				}
				fc, err := node.LoadConfig(node.ConfigPath(repo), os.Getenv)
				if err != nil {
					return err
				}
				if err := applyNodeFlags(cmd, g, nil, fc); err != nil {
					return err
				}
				cfg, src = fc, "file+env"
			}
			out := cmd.OutOrStdout()
			if g.json {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(cfg)
			}
			fmt.Fprintf(out, "# effective config of %s (source: %s)\n", repo, src)
			enc := yaml.NewEncoder(out)
			enc.SetIndent(2)
			if err := enc.Encode(cfg); err != nil {
				return err
			}
			return enc.Close()
		},
	})
	return cmd
}
