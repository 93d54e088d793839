package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node"
	"github.com/cloudless-network/cloudless/node/client"
)

func newIDCmd(g *globalFlags) *cobra.Command {
	var passFile string
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Print the node's peer ID, Ethereum address and listen addresses",
		Long: `Prints who this node is. While a daemon holds the repo the addresses are the
ones actually bound (port 0 resolved); otherwise they are the configured ones.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo := g.repoPath()
			id, err := daemonID(cmd, repo)
			if errors.Is(err, client.ErrNoDaemon) {
				id, err = offlineID(repo, passFile)
			}
			if err != nil {
				return err
			}
			return printID(cmd.OutOrStdout(), g.json, id)
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "keystore passphrase file, needed only when no daemon runs")
	return cmd
}

func daemonID(cmd *cobra.Command, repo string) (client.ID, error) {
	c, err := client.DialAPI(repo)
	if err != nil {
		return client.ID{}, err
	}
	return c.ID(cmd.Context())
}

func offlineID(repo, passFile string) (client.ID, error) {
	cfg, err := node.LoadConfig(node.ConfigPath(repo), os.Getenv)
	if err != nil {
		return client.ID{}, err
	}
	pass, err := unlockPassphrase(repo, passFile)
	if err != nil {
		return client.ID{}, err
	}
	id, err := node.ReadID(repo, pass)
	if err != nil {
		return client.ID{}, err
	}
	id.Addrs = cfg.Listen
	id.Provider = cfg.Provide.Enabled
	return id, nil
}

func printID(w io.Writer, asJSON bool, id client.ID) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(id)
	}
	state := "configured (no daemon running)"
	if id.Running {
		state = "listening"
	}
	_, err := fmt.Fprintf(w, "peer ID:  %s\naddress:  %s\nprovider: %v\n%s:\n  %s\n",
		id.PeerID, id.Address, id.Provider, state, strings.Join(id.Addrs, "\n  "))
	return err
}
