package market

import (
	"context"
	"errors"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
)

// The client's ledger deal of an escrow assignment follows the chain,
// never the messages (issue 6; docs/rationale/market.md "Why does the
// client's ledger deal follow the chain, not the result?"):
//
//   - a result received is not a commitment: the deal stays opened while
//     the provider's submitResult may still be in flight (store.go maps a
//     submitted assignment to an opened deal) and moves to submitted when
//     Settle reads the deal submitted on chain (syncCommitted);
//   - a closed deal that paid the provider is recorded as the closing
//     event says: accepted (our accept, maybe before a crash) or claimed
//     (the provider's claim after the challenge window), not "accepted"
//     for both (paidEnd).

// syncCommitted moves a's ledger deal from opened to submitted once the
// chain has the provider's commitment (st): the ledger learns it from
// the chain, not from the result message. One small write, once per
// deal; a deal the ledger already has further along is left alone.
func (c *Client) syncCommitted(ctx context.Context, a *Assignment, st contracts.DealState) {
	if st.Status != contracts.DealSubmitted || a.Deal == nil {
		return
	}
	d, err := c.d.Ledger.Deal(ctx, a.DealID)
	if err != nil || d.State != ledger.DealOpened {
		return
	}
	err = update(c.d.Ledger, func(tx *ledger.Tx) error {
		_, err := tx.AdvanceDeal(a.DealID, ledger.DealSubmitted, func(d *ledger.Deal) error {
			d.SubmittedAt, d.Note = st.At, "result submitted on chain"
			return nil
		})
		return err
	})
	if err != nil {
		c.log.Warn("ledger: deal submitted", "deal", a.DealID, "err", err)
	}
}

// dealEnd is how the chain closed one deal, for the ledger's deal record.
type dealEnd struct {
	id  common.Hash
	end disputeEnd
	tx  common.Hash
}

// paidEnd reads how a's closed deal, not refunded, paid the provider:
// by the client's accept or the provider's claim (its closing event).
// ok is false when the chain could not be read (Settle looks again next
// tick). Without event access, or with the logs pruned, the deal counts
// as accepted, as before.
func (c *Client) paidEnd(ctx context.Context, a *Assignment) (e dealEnd, ok bool) {
	e = dealEnd{id: a.DealID, end: disputeEnd{deal: ledger.DealAccepted, forProvider: true, note: "accepted"}}
	cf, has := c.d.Settle.(closingFilter)
	if !has {
		return e, true
	}
	cl, found, err := closingOf(ctx, cf, c.cfg.FromBlock, a.DealID)
	if err != nil {
		c.log.Debug("closing event", "deal", a.DealID, "err", err)
		return e, false
	}
	if !found {
		return e, true
	}
	end, known := endOf(cl, a.Deal)
	if !known || !end.forProvider || end.disputed {
		// A ruling or an expiry is SettleDisputes'; a refund was
		// caught by closedByRefund.
		return e, false
	}
	if end.deal == ledger.DealClaimed && a.State == StateVerified {
		end.note = "claimed by the provider after the challenge window (the client's accept never landed); the verified result is kept"
	} else if end.deal == ledger.DealClaimed && a.State == StateSubmitted {
		end.note = "claimed by the provider after the challenge window (the client never verified its result)"
	}
	e.end, e.tx = end, cl.Log.TxHash
	return e, true
}

// recordDealEnds returns the ledger write that closes each deal as the
// chain closed it, before the job's own write in the same transaction
// (putClientAssignment then keeps the terminal state: AdvanceDeal never
// moves a closed deal). It runs more after, when not nil.
func recordDealEnds(ends []dealEnd, more func(tx *ledger.Tx) error) func(tx *ledger.Tx) error {
	if len(ends) == 0 {
		return more
	}
	return func(tx *ledger.Tx) error {
		for _, e := range ends {
			if err := closeDisputedDeal(tx, e.id, e.end, e.tx); err != nil && !errors.Is(err, ledger.ErrNotFound) {
				return err
			}
		}
		if more != nil {
			return more(tx)
		}
		return nil
	}
}
