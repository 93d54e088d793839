package market

import (
	"context"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// refundAbandoned refunds the escrow deals of j, a job whose process is
// still running (a retry round), that a silent provider left open past
// their deadline: the refund does not wait for the job to end. The job
// record is the process's to write, so only the deal and the refund
// payment are recorded here; the process's later saves cannot move the
// deal back (a refunded deal is terminal in the ledger), and Settle,
// once the process is done, sees the ledger's refunded deal and marks
// the assignment refunded (closedByRefund). An open deal past its
// deadline can get no result any more (the contract refuses a late
// submission), so no result of that provider can race the refund.
func (c *Client) refundAbandoned(ctx context.Context, j *Job, now uint64) {
	if j.PayMode != wire.PayEscrow {
		return
	}
	for i := range j.Assigned {
		a := &j.Assigned[i]
		if a.Deal == nil || !a.DealOpen || a.State != StateAwarded || now <= a.Deal.Deadline {
			continue
		}
		if d, err := c.d.Ledger.Deal(ctx, a.DealID); err != nil || d.State.Terminal() {
			continue
		}
		st, err := c.d.Settle.Deal(ctx, a.DealID)
		if err != nil || st.Status != contracts.DealOpen {
			continue // Settle settles it from the chain once the job is done
		}
		rc, err := c.d.Settle.Refund(ctx, *a.Deal)
		if err != nil {
			c.log.Warn("refund", "job", j.ID, "err", err)
			continue
		}
		key, id, price, addr := j.ID.String(), a.DealID, a.Price, a.Addr
		var tx common.Hash
		if rc != nil {
			tx = rc.TxHash
		}
		err = update(c.d.Ledger, func(t *ledger.Tx) error {
			if _, err := t.AdvanceDeal(id, ledger.DealRefunded, nil); err != nil {
				return err
			}
			return t.RecordPayment(ledger.Payment{ID: "refunded/" + id.Hex(), Kind: ledger.PaymentRefunded, Amount: price,
				JobID: key, Ref: id, Tx: tx, Peer: addr})
		})
		if err != nil {
			c.log.Warn("ledger: refund", "job", j.ID, "err", err)
			continue
		}
		c.m.Paid("refund", price)
		c.emit(j.ID, j.State, "escrow of silent provider %s refunded", short(a.Provider))
	}
}

// closedByRefund reports whether a's closed deal went back to the client:
// the ledger recorded our refund (refundAbandoned, or a refund whose job
// record a crash kept from being written), or no result was ever
// submitted for it (accept and claim need one; a refund does not).
// Without event access a deal the ledger does not have refunded counts as
// paid, as before.
func (c *Client) closedByRefund(ctx context.Context, a *Assignment) (bool, error) {
	if d, err := c.d.Ledger.Deal(ctx, a.DealID); err == nil && d.State == ledger.DealRefunded {
		return true, nil
	}
	rl, ok := c.d.Settle.(resultLogs)
	if !ok {
		return false, nil
	}
	evs, err := rl.FilterResultsSubmitted(ctx, c.cfg.FromBlock, []common.Hash{a.DealID})
	if err != nil {
		return false, err
	}
	for _, e := range evs {
		if common.Hash(e.DealId) == a.DealID {
			return false, nil
		}
	}
	return true, nil
}
