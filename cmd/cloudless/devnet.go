package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/cloudless-network/cloudless/contracts/devnet"
)

type devnetFlags struct {
	rpcAddr   string
	blockTime time.Duration
	fund      []string
	noWrite   bool
}

func newDevnetCmd(g *globalFlags) *cobra.Command {
	f := &devnetFlags{}
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a local dev chain with the marketplace contract deployed",
		Long: `Runs go-ethereum's dev-mode chain in this process, serves JSON-RPC on
--rpc-addr, deploys the Marketplace contract, prefunds the --fund accounts with
1000 ether each and prints the connection info (with --json: one JSON object on
the first line of stdout). It writes chain.json {rpc, chain_id, contract, ...}
into the repo and into every funded repo, so ` + "`cloudless node`" + ` there finds the
chain without --chain-rpc; the files are removed again on exit, since the
chain lives in memory only. Blocks are sealed on demand (one per transaction)
unless --block-time is set. Stop with Ctrl-C.

--fund takes an Ethereum address (0x...) or a node repo directory, whose
address is read from its keystore/ without the passphrase.

The faucet key it prints holds the rest of the dev ether: for local use only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDevnet(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.rpcAddr, "rpc-addr", "127.0.0.1:8545", "HOST:PORT of the HTTP JSON-RPC server (port 0: any free port)")
	fl.DurationVar(&f.blockTime, "block-time", 0, "block interval (0: a block as soon as a transaction arrives)")
	fl.StringArrayVar(&f.fund, "fund", nil, "address or repo directory to prefund (repeatable)")
	fl.BoolVar(&f.noWrite, "no-chain-file", false, "do not write chain.json into the repos")
	return cmd
}

// devnetOutput is what `cloudless devnet --json` prints on its first line.
type devnetOutput struct {
	devnet.Info
	BlockTime  string           `json:"block_time"`
	Funded     []common.Address `json:"funded"`
	ChainFiles []string         `json:"chain_files,omitempty"`
}

// resolveFund turns each --fund value into an address and, for repos, the
// repo directory.
func resolveFund(values []string) (addrs []common.Address, repos []string, err error) {
	for _, v := range values {
		if common.IsHexAddress(v) {
			addrs = append(addrs, common.HexToAddress(v))
			continue
		}
		a, err := devnet.KeystoreAddress(filepath.Join(v, "keystore"))
		if err != nil {
			return nil, nil, fmt.Errorf("--fund %s: not an address, and not a repo with a keystore (%v); run `cloudless init --repo %s` first", v, err, v)
		}
		addrs = append(addrs, a)
		repos = append(repos, v)
	}
	return addrs, repos, nil
}

func runDevnet(cmd *cobra.Command, g *globalFlags, f *devnetFlags) error {
	if f.blockTime < 0 {
		return fmt.Errorf("--block-time must not be negative")
	}
	if f.blockTime > 0 && f.blockTime < time.Second {
		return fmt.Errorf("--block-time %s: the dev chain seals at most one block a second; use 0 for blocks on demand", f.blockTime)
	}
	addrs, repos, err := resolveFund(f.fund)
	if err != nil {
		return err
	}
	log := newLogger(cmd.ErrOrStderr(), g.logLevel, g.logFormat)
	ctx := cmd.Context()
	chain, err := devnet.Start(ctx, devnet.Config{RPCAddr: f.rpcAddr, BlockTime: f.blockTime, Fund: addrs, Logger: log})
	if err != nil {
		return fmt.Errorf("%w (is --rpc-addr %s already in use? try --rpc-addr 127.0.0.1:0)", err, f.rpcAddr)
	}
	defer chain.Close()

	info := chain.Info()
	out := devnetOutput{Info: info, BlockTime: f.blockTime.String(), Funded: addrs}
	if out.Funded == nil {
		out.Funded = []common.Address{}
	}
	if !f.noWrite {
		dirs := append([]string{g.repoPath()}, repos...)
		seen := map[string]bool{}
		for _, d := range dirs {
			abs, err := filepath.Abs(d)
			if err != nil || seen[abs] {
				continue
			}
			seen[abs] = true
			p := filepath.Join(abs, devnet.InfoFile)
			if err := devnet.WriteInfo(p, info); err != nil {
				return fmt.Errorf("write %s: %w (use --no-chain-file to skip)", p, err)
			}
			out.ChainFiles = append(out.ChainFiles, p)
		}
		defer func() {
			for _, p := range out.ChainFiles {
				// Remove only our own file: another devnet may have replaced it.
				if cur, err := devnet.ReadInfo(p); err == nil && cur.Contract == info.Contract && cur.RPC == info.RPC {
					_ = os.Remove(p)
				}
			}
		}()
	}

	w := cmd.OutOrStdout()
	if g.json {
		if err := json.NewEncoder(w).Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "dev chain running (Ctrl-C to stop)\n")
		fmt.Fprintf(w, "  rpc:        %s\n", info.RPC)
		fmt.Fprintf(w, "  chain id:   %d\n", info.ChainID)
		fmt.Fprintf(w, "  contract:   %s\n", info.Contract.Hex())
		fmt.Fprintf(w, "  faucet:     %s\n", info.Faucet.Hex())
		fmt.Fprintf(w, "  faucet key: %s  (dev only)\n", info.FaucetKey)
		for _, a := range addrs {
			fmt.Fprintf(w, "  funded:     %s (1000 ether)\n", a.Hex())
		}
		for _, p := range out.ChainFiles {
			fmt.Fprintf(w, "  wrote:      %s\n", p)
		}
		fmt.Fprintf(w, "connect a node elsewhere with: cloudless node --chain-rpc %s --contract %s\n", info.RPC, info.Contract.Hex())
	}
	<-ctx.Done()
	log.Info("dev chain stopping")
	return nil
}
