package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node"
	"github.com/cloudless-network/cloudless/p2p"
)

func newInitCmd(g *globalFlags) *cobra.Command {
	var dev bool
	var passFile string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the node repo: key, encrypted keystore, commented config.yaml",
		Long: `Creates the repo (--repo, else $CLOUDLESS_REPO, else ~/.cloudless) with a new
secp256k1 key (its libp2p peer ID and Ethereum address come from the same key)
in an encrypted go-ethereum keystore, and a commented config.yaml.
It refuses to touch a directory that already holds a repo.

--dev: port 0 for every listener (several nodes on one machine), an empty
passphrase unless --passphrase-file is given, and light key derivation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var pass string
			if !dev || passFile != "" {
				var err error
				if pass, err = readPassphrase(passFile, true); err != nil {
					return err
				}
			}
			repo := g.repoPath()
			id, err := node.Init(repo, node.InitOptions{Dev: dev, Passphrase: pass})
			if err != nil {
				return err
			}
			return printInit(cmd.OutOrStdout(), g.json, repo, id.PeerID, id.Address)
		},
	}
	cmd.Flags().BoolVar(&dev, "dev", false, "local-development repo: port 0 listeners, empty passphrase, light key derivation")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file holding the keystore passphrase (else $CLOUDLESS_PASSPHRASE, else a prompt)")
	return cmd
}

func printInit(w io.Writer, asJSON bool, repo, peerID, addr string) error {
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]string{"repo": repo, "peer_id": peerID, "address": addr, "config": node.ConfigPath(repo)})
	}
	_, err := fmt.Fprintf(w, "initialized cloudless repo at %s\npeer ID:  %s\naddress:  %s\nconfig:   %s\n\nnext: cloudless node   (add --provide to sell compute)\n",
		repo, peerID, addr, node.ConfigPath(repo))
	return err
}

// readPassphrase returns the keystore passphrase: the file's first line,
// else $CLOUDLESS_PASSPHRASE, else a prompt on the terminal (twice when
// confirm). The p2p package owns the rules.
func readPassphrase(file string, confirm bool) (string, error) {
	return p2p.ReadPassphrase(file, confirm)
}

// unlockPassphrase is readPassphrase for commands that open an existing
// repo: with no --passphrase-file and no $CLOUDLESS_PASSPHRASE it first
// tries the empty passphrase of a `cloudless init --dev` repo, and prompts
// only when that fails.
func unlockPassphrase(repo, file string) (string, error) {
	if _, env := os.LookupEnv(p2p.EnvPassphrase); file != "" || env {
		return readPassphrase(file, false)
	}
	if _, err := p2p.LoadIdentity(repo, ""); err == nil {
		return "", nil
	} else if !errors.Is(err, p2p.ErrPassphrase) {
		return "", err
	}
	return readPassphrase("", false)
}
