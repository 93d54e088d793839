package market

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
)

// Disputed escrow deals end on chain one of three ways, and both sides'
// ledgers follow the closing event exactly (docs/rationale/disputes.md):
//
//	DealResolved(forProvider)  provider paid the price (and its collateral unlocked)
//	DealResolved(!forProvider) client refunded the price plus the forfeited collateral
//	DisputeExpired             mediator silent: client refunded price and fee,
//	                           collateral unlocked (nothing proven)
//
// The contract keeps only "closed", so the closing event is read from the
// chain (contracts.Client.FilterDealClosings).

// DisputeChain is the part of the chain a dispute needs beyond
// Settlement (*contracts.Client has it): the closing event of a deal and
// the call that ends a dispute the mediator left unresolved.
type DisputeChain interface {
	FilterDealClosings(ctx context.Context, from uint64, deals []common.Hash) ([]contracts.DealClosing, error)
	ExpireDispute(ctx context.Context, p contracts.DealParams) (*types.Receipt, error)
}

var _ DisputeChain = (*contracts.Client)(nil)

// expiries remembers, per disputed deal, the chain time before which
// expireDispute reverts TooEarly (its revert carries that time), so a
// settle tick does not estimate a doomed transaction every time. Deal IDs
// are unique per chain and contract, so one table serves every client
// and provider in the process.
var expiries = struct {
	mu        sync.Mutex
	notBefore map[common.Hash]uint64
}{notBefore: map[common.Hash]uint64{}}

// expireDispute ends deal id's dispute if the mediation timeout passed at
// chain time now; it reports whether it sent the expiring transaction.
// TooEarly is remembered and is not an error.
func expireDispute(ctx context.Context, dc DisputeChain, dp contracts.DealParams, id common.Hash, now uint64) (bool, error) {
	expiries.mu.Lock()
	nb := expiries.notBefore[id]
	expiries.mu.Unlock()
	if now < nb {
		return false, nil
	}
	_, err := dc.ExpireDispute(ctx, dp)
	var re *contracts.RevertError
	switch {
	case err == nil:
		expiries.mu.Lock()
		delete(expiries.notBefore, id)
		expiries.mu.Unlock()
		return true, nil
	case errors.Is(err, contracts.ErrTooEarly) && errors.As(err, &re) && len(re.Args) == 1:
		if t, ok := re.Args[0].(*big.Int); ok && t.IsUint64() {
			expiries.mu.Lock()
			expiries.notBefore[id] = t.Uint64()
			expiries.mu.Unlock()
		}
		return false, nil
	case errors.Is(err, contracts.ErrTooEarly):
		return false, nil
	case errors.Is(err, contracts.ErrBadDealState):
		return false, nil // resolved or expired meanwhile: the closing event says how
	}
	return false, fmt.Errorf("expire dispute of deal %s: %w", id, err)
}

// closingFilter reads closing events (DisputeChain, MediationChain).
type closingFilter interface {
	FilterDealClosings(ctx context.Context, from uint64, deals []common.Hash) ([]contracts.DealClosing, error)
}

// closingOf reads how deal id closed; ok is false when no closing event
// is found (not closed yet, or the logs are pruned).
func closingOf(ctx context.Context, dc closingFilter, from uint64, id common.Hash) (contracts.DealClosing, bool, error) {
	cs, err := dc.FilterDealClosings(ctx, from, []common.Hash{id})
	if err != nil {
		return contracts.DealClosing{}, false, err
	}
	for _, c := range cs {
		if c.DealID == id {
			expiries.mu.Lock()
			delete(expiries.notBefore, id) // closed: nothing left to expire
			expiries.mu.Unlock()
			return c, true, nil
		}
	}
	return contracts.DealClosing{}, false, nil
}

// disputeEnd is what a closed deal of a refused or disputed result
// means for the ledgers.
type disputeEnd struct {
	deal        ledger.DealState // the ledger's terminal deal state
	disputed    bool             // ended a dispute (DealResolved, DisputeExpired)
	forProvider bool             // the provider was paid the price
	refund      *big.Int         // what the contract credited to the client (nil: nothing)
	note        string
}

// endOf maps a deal's closing event to its end for the ledgers.
func endOf(c contracts.DealClosing, dp *contracts.DealParams) (disputeEnd, bool) {
	price, fee, coll := orZero(dp.Price), orZero(dp.MediatorFee), orZero(dp.Collateral)
	switch c.Event {
	case "DealResolved":
		if c.ForProvider {
			return disputeEnd{deal: ledger.DealResolved, disputed: true, forProvider: true,
				note: "dispute resolved: the mediator ruled for the provider; the provider was paid"}, true
		}
		return disputeEnd{deal: ledger.DealResolved, disputed: true, refund: new(big.Int).Add(price, coll),
			note: fmt.Sprintf("dispute resolved: the mediator ruled for the client; price refunded, collateral %s forfeited to the client", coll)}, true
	case "DisputeExpired":
		return disputeEnd{deal: ledger.DealRefunded, disputed: true, refund: new(big.Int).Add(price, fee),
			note: "dispute expired: the mediator stayed silent; price and fee refunded to the client, collateral unlocked"}, true
	case "DealClaimed":
		note := "not accepted, but claimed by the provider after the challenge window (no dispute landed)"
		if dp.Mediator == (common.Address{}) {
			note = "not accepted, but claimed by the provider after the challenge window: the deal named no mediator, so it could not be disputed"
		}
		return disputeEnd{deal: ledger.DealClaimed, forProvider: true, note: note}, true
	case "DealAccepted":
		return disputeEnd{deal: ledger.DealAccepted, forProvider: true, note: "accepted"}, true
	case "DealRefunded":
		return disputeEnd{deal: ledger.DealRefunded, refund: orZero(c.Amount), note: "refunded after the deal deadline"}, true
	}
	return disputeEnd{}, false
}

// closeDisputedDeal records the end of a disputed deal on the ledger's
// deal record (before the job's own write, which then keeps it).
func closeDisputedDeal(tx *ledger.Tx, id common.Hash, e disputeEnd, closeTx common.Hash) error {
	_, err := tx.AdvanceDeal(id, e.deal, func(d *ledger.Deal) error {
		// ForProvider says who won a ruling (ledger.Deal), as
		// reconciliation writes it: false for an accept or a claim.
		d.ForProvider, d.CloseTx, d.Note = e.forProvider && e.deal == ledger.DealResolved, closeTx, e.note
		return nil
	})
	return err
}
