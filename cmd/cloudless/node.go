package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/node"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// nodeFlags are the daemon's flags; each overrides the config key named in
// its help when given.
type nodeFlags struct {
	provide        bool
	listen         []string
	apiAddr        string
	apiAllowRemote bool
	chainRPC       string
	contract       string
	bootstrap      []string
	noMDNS         bool
	relayService   bool
	gateway        string
	passFile       string
	shutdown       time.Duration
}

func newNodeCmd(g *globalFlags) *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the daemon: p2p host, storage, executor, market, chain client and the control API",
		Long: `Runs the node until SIGINT or SIGTERM, then shuts down gracefully (reverse start
order, within --shutdown-timeout; a second signal exits at once).

While it runs, other commands on the same repo go through its control API
(address in <repo>/api, token in <repo>/api.token). Without a chain
(--chain-rpc/--contract, chain.* in config.yaml, or <repo>/chain.json from
` + "`cloudless devnet`" + `) the node runs without settlement and says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNode(cmd, g, &f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.provide, "provide", false, "sell compute (provide.enabled)")
	fl.StringArrayVar(&f.listen, "listen", nil, "libp2p listen multiaddr, repeatable; port 0 = any free port (listen)")
	fl.StringVar(&f.apiAddr, "api-addr", "", "control API HOST:PORT (api.addr; default "+node.DefaultAPIAddr+")")
	fl.BoolVar(&f.apiAllowRemote, "api-allow-remote", false, "allow a non-loopback --api-addr (api.allow_remote)")
	fl.StringVar(&f.chainRPC, "chain-rpc", "", "Ethereum JSON-RPC URL of the settlement chain (chain.rpc)")
	fl.StringVar(&f.contract, "contract", "", "Marketplace contract address (chain.contract)")
	fl.StringArrayVar(&f.bootstrap, "bootstrap", nil, "bootstrap peer multiaddr with /p2p/ID, repeatable (bootstrap)")
	fl.BoolVar(&f.noMDNS, "no-mdns", false, "disable local-network discovery (mdns: false)")
	fl.BoolVar(&f.relayService, "relay-service", false, "act as a circuit relay for peers behind NAT (relay_service)")
	fl.StringVar(&f.gateway, "gateway", "", "HOST:PORT of the functions' HTTP gateway, off when empty (gateway)")
	fl.StringVar(&f.passFile, "passphrase-file", "", "file holding the keystore passphrase (else $CLOUDLESS_PASSPHRASE, else a prompt)")
	fl.DurationVar(&f.shutdown, "shutdown-timeout", node.DefaultShutdownTimeout, "how long a graceful shutdown may take")
	return cmd
}

// effectiveConfig is config.yaml < CLOUDLESS_* env < the command's flags.
func effectiveConfig(cmd *cobra.Command, g *globalFlags, f *nodeFlags) (*node.Config, error) {
	cfg, err := node.LoadConfig(node.ConfigPath(g.repoPath()), os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := applyNodeFlags(cmd, g, f, cfg); err != nil {
		return nil, err
	}
	return cfg, cfg.Validate()
}

// applyNodeFlags overrides cfg with the flags the user gave (Changed), so
// a flag's default never hides a config or env value.
func applyNodeFlags(cmd *cobra.Command, g *globalFlags, f *nodeFlags, cfg *node.Config) error {
	fl := cmd.Flags()
	if fl.Changed("log-level") {
		cfg.Log.Level = g.logLevel
	}
	if fl.Changed("log-format") {
		cfg.Log.Format = g.logFormat
	}
	if f == nil {
		return nil
	}
	if fl.Changed("provide") {
		cfg.Provide.Enabled = f.provide
	}
	if fl.Changed("listen") {
		cfg.Listen = f.listen
	}
	if fl.Changed("api-addr") {
		cfg.API.Addr = f.apiAddr
	}
	if fl.Changed("api-allow-remote") {
		cfg.API.AllowRemote = f.apiAllowRemote
	}
	if fl.Changed("chain-rpc") || fl.Changed("contract") {
		if f.chainRPC == "" || f.contract == "" {
			return fmt.Errorf("--chain-rpc and --contract go together (give both)")
		}
		cfg.Chain.RPC, cfg.Chain.Contract = f.chainRPC, f.contract
	}
	if fl.Changed("bootstrap") {
		cfg.Bootstrap = f.bootstrap
	}
	if fl.Changed("no-mdns") {
		cfg.MDNS = !f.noMDNS
	}
	if fl.Changed("relay-service") {
		cfg.RelayService = f.relayService
	}
	if fl.Changed("gateway") {
		cfg.Gateway = f.gateway
	}
	return nil
}

// chainSource names where the chain settings came from, for the logs and
// the dashboard.
func chainSource(cmd *cobra.Command) string {
	switch {
	case cmd.Flags().Changed("chain-rpc"):
		return "flags"
	case os.Getenv("CLOUDLESS_CHAIN_RPC") != "":
		return "env"
	}
	return "config"
}

// newLogger builds the slog logger of --log-level/--log-format (or their
// config keys), writing to w.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(strings.ToUpper(level)))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runNode(cmd *cobra.Command, g *globalFlags, f *nodeFlags) error {
	ctx := cmd.Context()
	repo := g.repoPath()
	cfg, err := effectiveConfig(cmd, g, f)
	if err != nil {
		return err
	}
	log := newLogger(cmd.ErrOrStderr(), cfg.Log.Level, cfg.Log.Format)
	slog.SetDefault(log)
	pass, err := unlockPassphrase(repo, f.passFile)
	if err != nil {
		return err
	}
	n, err := node.Start(ctx, repo, cfg, node.Options{
		Passphrase:  pass,
		Logger:      log,
		Version:     version,
		ChainSource: chainSource(cmd),
	})
	if err != nil {
		return err
	}
	log.Info("node running; press Ctrl-C to stop", "repo", repo, "api", n.APIAddr())
	<-ctx.Done()
	// A second SIGINT/SIGTERM during shutdown kills the process at once.
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	log.Info("shutting down", "deadline", f.shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdown)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}
