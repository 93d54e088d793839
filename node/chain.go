package node

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/node/client"
)

// chainTarget is where the node settles: from config/env/flags, else the
// repo's chain.json. ok is false when neither names a chain.
func (n *Node) chainTarget() (rpc string, contract common.Address, source string, ok bool, err error) {
	if n.cfg.Chain.RPC != "" {
		src := n.opts.ChainSource
		if src == "" {
			src = "config"
		}
		return n.cfg.Chain.RPC, common.HexToAddress(n.cfg.Chain.Contract), src, true, nil
	}
	p := filepath.Join(n.repo, ChainFile)
	info, err := devnet.ReadInfo(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", common.Address{}, "", false, nil
	}
	if err != nil {
		return "", common.Address{}, "", false, fmt.Errorf("chain: %w (fix or remove it, or pass --chain-rpc and --contract)", err)
	}
	return info.RPC, info.Contract, ChainFile, true, nil
}

// startChain dials the settlement chain. With no chain configured the node
// runs without settlement: it can still run local jobs and serve content,
// but sells and buys nothing.
func (n *Node) startChain(ctx context.Context) error {
	rpc, addr, src, ok, err := n.chainTarget()
	if err != nil {
		return err
	}
	if !ok {
		n.log.Warn("no chain configured: running WITHOUT settlement (no payments, no selling or buying); start `cloudless devnet` or pass --chain-rpc URL --contract ADDRESS")
		n.setPart("chain", false, "no chain configured")
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := contracts.Dial(dctx, rpc, addr, n.id.Key, contracts.WithLogger(n.log.With("part", "contracts")))
	if err != nil {
		return fmt.Errorf("chain: dial %s (from %s): %w; is the chain running?", rpc, src, err)
	}
	p := &chainPart{c: c, rpc: rpc, source: src, self: n.id.Address}
	n.chain = p
	n.svc.Chain = p
	n.onClose("chain", func(context.Context) error { c.Close(); return nil })
	n.setPart("chain", true, "")
	n.log.Info("settlement chain connected", "rpc", rpc, "chain_id", c.ChainID(), "contract", addr.Hex(), "from", src)
	return nil
}

// chainPart answers /v1/chain and the on-chain half of /v1/wallet.
type chainPart struct {
	c      *contracts.Client
	rpc    string
	source string
	self   common.Address

	mu      sync.Mutex
	lastErr string
}

func (p *chainPart) Chain(ctx context.Context) client.Chain {
	ch := client.Chain{
		Enabled:  true,
		RPC:      p.rpc,
		ChainID:  p.c.ChainID().String(),
		Contract: p.c.Contract().Hex(),
		Source:   p.source,
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	h, err := p.c.Backend().HeaderByNumber(ctx, nil)
	if err != nil {
		ch.Error = err.Error()
		return ch
	}
	ch.Block = h.Number.Uint64()
	return ch
}

// walletOnChain fills the on-chain fields of a wallet view.
func (p *chainPart) walletOnChain(ctx context.Context, w *client.Wallet) error {
	bal, err := p.c.Balance(ctx, p.self)
	if err != nil {
		return fmt.Errorf("balance: %w", err)
	}
	cr, err := p.c.Credits(ctx, p.self)
	if err != nil {
		return fmt.Errorf("credits: %w", err)
	}
	w.Balance, w.Withdrawable = bal.String(), cr.String()
	return nil
}

// withdraw takes all credits out of the contract (the contract has no
// partial withdraw), refusing an amount that is not all of them.
func (p *chainPart) withdraw(ctx context.Context, amount string) (client.WithdrawResult, error) {
	cr, err := p.c.Credits(ctx, p.self)
	if err != nil {
		return client.WithdrawResult{}, fmt.Errorf("credits: %w", err)
	}
	if cr.Sign() == 0 {
		return client.WithdrawResult{}, fmt.Errorf("%w: nothing to withdraw (0 wei credited to %s)", ErrBadRequest, p.self.Hex())
	}
	if amount != "" {
		want, err := ParseWei(amount)
		if err != nil {
			return client.WithdrawResult{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		if want.Cmp(cr) != 0 {
			return client.WithdrawResult{}, fmt.Errorf("%w: the contract pays out all credits at once (%s wei), not %s", ErrBadRequest, cr, want.String())
		}
	}
	rcpt, err := p.c.Withdraw(ctx)
	if err != nil {
		return client.WithdrawResult{}, err
	}
	return client.WithdrawResult{Tx: rcpt.TxHash.Hex(), Amount: new(big.Int).Set(cr).String()}, nil
}

// addr parses a validated 0x address from the config.
func (p *chainPart) addr(s string) common.Address { return common.HexToAddress(s) }
