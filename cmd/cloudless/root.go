package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// globalFlags are the flags every command takes.
type globalFlags struct {
	repo      string
	json      bool
	logLevel  string
	logFormat string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "cloudless",
		Short:         "A node of the cloudless peer-to-peer serverless compute marketplace",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.repo, "repo", "", "node repo directory (default $CLOUDLESS_REPO, else ~/.cloudless)")
	pf.BoolVar(&g.json, "json", false, "print data as JSON")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")

	// Each subcommand lives in its own file as newXxxCmd(g).
	root.AddCommand(
		newInitCmd(g),
		newIDCmd(g),
		newConfigCmd(g),
		newNodeCmd(g),
		newPeersCmd(g),
		newOffersCmd(g),
		newUICmd(g),
		newDevnetCmd(g),
		newDemoCmd(g),
		newPublishCmd(g),
		newGetCmd(g),
		newPinCmd(g),
		newCarCmd(g),
		newRepoCmd(g),
		newExecCmd(g),
		newRunCmd(g),
		newJobCmd(g),
		newWalletCmd(g),
		newDeployCmd(g),
		newFnCmd(g),
	)
	return root
}

// repoPath resolves the repo directory: --repo, else $CLOUDLESS_REPO, else
// ~/.cloudless.
func (g *globalFlags) repoPath() string {
	if g.repo != "" {
		return g.repo
	}
	if r := os.Getenv("CLOUDLESS_REPO"); r != "" {
		return r
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cloudless"
	}
	return filepath.Join(home, ".cloudless")
}
