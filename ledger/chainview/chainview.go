// Package chainview implements ledger.ChainView over the Marketplace
// contract (contracts.Client), so a node can Reconcile its ledger with the
// chain on start:
//
//	view := chainview.New(client, deployBlock)
//	corrections, err := l.Reconcile(ctx, view)
//
// It lives apart from package ledger so that the ledger itself does not
// depend on go-ethereum's RPC client and the generated bindings.
package chainview

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
)

// Source is what the view reads: a subset of *contracts.Client.
type Source interface {
	Deal(ctx context.Context, id common.Hash) (contracts.DealState, error)
	Channel(ctx context.Context, id common.Hash) (contracts.Channel, error)
	Events(ctx context.Context, from uint64, to *uint64) ([]contracts.Event, error)
}

// ClosingSource is the optional, cheaper way to learn how one deal closed:
// a log filter on the deal's closing events (*contracts.Client has it).
// Without it the view scans every Marketplace event once.
type ClosingSource interface {
	FilterDealClosings(ctx context.Context, from uint64, deals []common.Hash) ([]contracts.DealClosing, error)
}

var (
	_ Source           = (*contracts.Client)(nil)
	_ ClosingSource    = (*contracts.Client)(nil)
	_ ledger.ChainView = (*View)(nil)
)

// View answers ledger.ChainView. The contract stores only a closed deal's
// status, not how it closed, so View reads the Marketplace's closing events
// (DealAccepted, DealClaimed, DealRefunded, DealResolved, DisputeExpired)
// once, from the given block on, and then only the new blocks. Safe for
// concurrent use.
type View struct {
	src Source

	mu     sync.Mutex
	from   uint64 // first block of the contract's history
	next   uint64 // first block not yet scanned
	closes map[common.Hash]closing
}

type closing struct {
	outcome     ledger.DealState
	forProvider bool
	expired     bool
	tx          common.Hash
}

// New returns a view over src that scans events from fromBlock (the
// contract's deployment block, or 0).
func New(src Source, fromBlock uint64) *View {
	return &View{src: src, from: fromBlock, next: fromBlock, closes: map[common.Hash]closing{}}
}

// Outcome maps a deal's closing event to the ledger's terminal deal
// state: DealAccepted, DealClaimed, DealRefunded (a refund after the
// deadline, or DisputeExpired: the client got its money back, the
// provider's collateral was unlocked) or DealResolved (ForProvider says
// who won). ok is false for an event that closes no deal.
func Outcome(c contracts.DealClosing) (state ledger.DealState, forProvider, expired, ok bool) {
	switch c.Event {
	case "DealAccepted":
		return ledger.DealAccepted, false, false, true
	case "DealClaimed":
		return ledger.DealClaimed, false, false, true
	case "DealRefunded":
		return ledger.DealRefunded, false, false, true
	case "DisputeExpired":
		return ledger.DealRefunded, false, true, true
	case "DealResolved":
		return ledger.DealResolved, c.ForProvider, false, true
	}
	return "", false, false, false
}

// DealOnChain implements ledger.ChainView.
func (v *View) DealOnChain(ctx context.Context, id common.Hash) (ledger.ChainDeal, error) {
	st, err := v.src.Deal(ctx, id)
	if err != nil {
		return ledger.ChainDeal{}, fmt.Errorf("chainview: deal %s: %w", id, err)
	}
	out := ledger.ChainDeal{Status: ledger.ChainDealStatus(st.Status), At: st.At}
	if st.Status != contracts.DealClosed {
		return out, nil
	}
	c, ok, err := v.closingOf(ctx, id)
	if err != nil {
		return ledger.ChainDeal{}, err
	}
	if ok {
		out.Outcome, out.ForProvider, out.Expired, out.CloseTx = c.outcome, c.forProvider, c.expired, c.tx
	}
	return out, nil
}

func (v *View) closingOf(ctx context.Context, id common.Hash) (closing, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.closes[id]; ok {
		return c, true, nil
	}
	var found []contracts.DealClosing
	if cs, ok := v.src.(ClosingSource); ok {
		got, err := cs.FilterDealClosings(ctx, v.from, []common.Hash{id})
		if err != nil {
			return closing{}, false, fmt.Errorf("chainview: closing of deal %s: %w", id, err)
		}
		found = got
	} else {
		evs, err := v.src.Events(ctx, v.next, nil)
		if err != nil {
			return closing{}, false, fmt.Errorf("chainview: events from block %d: %w", v.next, err)
		}
		for _, e := range evs {
			if e.Log.BlockNumber >= v.next {
				v.next = e.Log.BlockNumber + 1
			}
			if dc, ok := contracts.ClosingOf(e); ok {
				found = append(found, dc)
			}
		}
	}
	for _, dc := range found {
		var c closing
		var ok bool
		if c.outcome, c.forProvider, c.expired, ok = Outcome(dc); !ok {
			continue
		}
		c.tx = dc.Log.TxHash
		v.closes[dc.DealID] = c
	}
	c, ok := v.closes[id]
	return c, ok, nil
}

// ChannelOnChain implements ledger.ChainView.
func (v *View) ChannelOnChain(ctx context.Context, id common.Hash) (ledger.ChainChannel, error) {
	ch, err := v.src.Channel(ctx, id)
	if errors.Is(err, contracts.ErrUnknownChannel) {
		return ledger.ChainChannel{}, nil
	}
	if err != nil {
		return ledger.ChainChannel{}, fmt.Errorf("chainview: channel %s: %w", id, err)
	}
	return ledger.ChainChannel{Exists: true, Deposit: ch.Deposit, Redeemed: ch.Redeemed, ExitAt: ch.ExitAt, Finished: ch.Finished}, nil
}
