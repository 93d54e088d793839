package node

import (
	"context"
	"fmt"

	"github.com/cloudless-network/cloudless/node/client"
)

// earnings is what the wallet view needs from the ledger: totals paid to
// us as a provider and by us as a client, in wei.
type earnings interface {
	Totals(ctx context.Context) (earned, spent string, err error)
}

// walletService answers /v1/wallet from the chain (balance, withdrawable
// credits) and the ledger (earned, spent).
type walletService struct {
	n      *Node
	ledger earnings // nil until the ledger is wired
}

func (s *walletService) Wallet(ctx context.Context) (client.Wallet, error) {
	n := s.n
	w := client.Wallet{Address: n.id.Address.Hex(), Payout: n.cfg.Provide.PayoutAddress, Earned: "0", Spent: "0"}
	if w.Payout == "" {
		w.Payout = w.Address
	}
	if n.chain != nil {
		if err := n.chain.walletOnChain(ctx, &w); err != nil {
			return w, fmt.Errorf("wallet: %w", err)
		}
	}
	if s.ledger != nil {
		e, sp, err := s.ledger.Totals(ctx)
		if err != nil {
			return w, fmt.Errorf("wallet: ledger: %w", err)
		}
		w.Earned, w.Spent = e, sp
	}
	return w, nil
}

func (s *walletService) Withdraw(ctx context.Context, amount string) (client.WithdrawResult, error) {
	if s.n.chain == nil {
		return client.WithdrawResult{}, fmt.Errorf("%w: no chain configured; start the node with --chain-rpc and --contract", ErrUnavailable)
	}
	return s.n.chain.withdraw(ctx, amount)
}
