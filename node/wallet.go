package node

import (
	"context"
	"fmt"

	"github.com/cloudless-network/cloudless/node/client"
)

// earnings is what the wallet view needs from the ledger: totals paid to
// us as a provider and by us as a client, in wei, and the payment
// channels of both roles.
type earnings interface {
	Totals(ctx context.Context) (earned, spent string, err error)
	Channels(ctx context.Context) ([]client.Channel, error)
}

// walletService answers /v1/wallet from the chain (balance, withdrawable
// credits) and the ledger (earned, spent, channels).
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
		if w.Channels, err = s.ledger.Channels(ctx); err != nil {
			return w, fmt.Errorf("wallet: ledger: %w", err)
		}
	}
	return w, nil
}

func (s *walletService) Withdraw(ctx context.Context, amount string) (client.WithdrawResult, error) {
	if s.n.chain == nil {
		return client.WithdrawResult{}, fmt.Errorf("%w: no chain configured; start the node with --chain-rpc and --contract", ErrUnavailable)
	}
	return s.n.chain.withdraw(ctx, amount)
}
