package market

import (
	"context"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// SettleDisputes follows the client's disputed escrow deals, and the
// deals of results it refused, to the end the chain gives them (see
// dispute.go): once the mediation timeout
// passed with no ruling it expires the dispute (the client's price and
// fee come back), and for a closed deal it reads the closing event:
//
//   - DealResolved for the provider: the assignment is paid (the mediator
//     re-ran the job and found the committed output right; the provider's
//     rating for this job becomes a success);
//   - DealResolved for the client: refunded, with the forfeited
//     collateral, as the contract credited it;
//   - DisputeExpired: refunded (price and fee);
//   - DealClaimed of a refused result (no mediator on the deal, or the
//     dispute never landed): paid, as the chain paid it; the deal is
//     recorded claimed, the provider's rating stays a disagreement.
//
// The ledger's deal, the job's assignment, its payment log and the job's
// state then say what the chain says. A job with a winner stays paid
// (its ledger record goes from verified to accepted); a job without one
// ends refunded when every disputed deal came back, else failed.
// Settle calls it on every tick; tests call it directly. It needs a
// Settlement that is also a DisputeChain (*contracts.Client).
func (c *Client) SettleDisputes(ctx context.Context) {
	dc, ok := c.d.Settle.(DisputeChain)
	if !ok {
		return
	}
	now, err := c.chainNow(ctx)
	if err != nil {
		return
	}
	jobs, err := c.jobsIn(ctx, ledger.JobFilter{Role: ledger.RoleClient, States: []ledger.JobState{
		ledger.JobAwarded, ledger.JobRunning, ledger.JobResultReceived, ledger.JobVerified, ledger.JobDisputed}})
	if err != nil {
		return
	}
	for _, j := range jobs {
		if j.PayMode != wire.PayEscrow || !slices.ContainsFunc(j.Assigned, disputable) {
			continue
		}
		c.mu.Lock()
		f := c.jobs[j.ID]
		c.mu.Unlock()
		if f != nil {
			select {
			case <-f.done:
			default:
				continue // process still owns it
			}
		}
		c.settleDisputed(ctx, dc, &j, now)
	}
}

// disputable: a is disputed, or its result was refused (wrong,
// unfetchable, outvoted) and not disputed: the deal names no mediator, or
// the dispute transaction failed (it may have landed after all). A
// refused result's deal ends by a ruling, an expiry, or the provider's
// claim after the challenge window.
//
// A submitted one counts too: a client that stopped between writing its
// verdicts and its dispute's outcome left it submitted; the chain then
// says whether the dispute landed. It is only acted on when it did.
func disputable(a Assignment) bool {
	return a.Deal != nil && (a.State == StateDisputed || a.State == StateSubmitted ||
		a.State == StateFailed && a.ResultCID != "" && !a.Stopped)
}

func (c *Client) settleDisputed(ctx context.Context, dc DisputeChain, j *Job, now uint64) {
	type ended struct {
		a   *Assignment
		end disputeEnd
		c   contracts.DealClosing
	}
	var done []ended
	promoted := false
	for i := range j.Assigned {
		a := &j.Assigned[i]
		if !disputable(*a) {
			continue
		}
		st, err := c.d.Settle.Deal(ctx, a.DealID)
		if err != nil {
			continue
		}
		if st.Status == contracts.DealDisputed && a.State != StateDisputed {
			a.State, promoted = StateDisputed, true // the failed dispute landed
		}
		if st.Status == contracts.DealDisputed && a.Deal.Mediator != (common.Address{}) {
			sent, err := expireDispute(ctx, dc, *a.Deal, a.DealID, now)
			if err != nil {
				c.log.Info("expire dispute", "job", j.ID, "provider", a.Provider, "err", err)
			}
			if !sent {
				continue
			}
			c.log.Info("dispute expired: the mediator stayed silent", "job", j.ID, "provider", a.Provider)
		} else if st.Status != contracts.DealClosed {
			continue
		}
		cl, ok, err := closingOf(ctx, dc, c.cfg.FromBlock, a.DealID)
		if err != nil || !ok {
			continue
		}
		end, ok := endOf(cl, a.Deal)
		if !ok || end.deal == ledger.DealRefunded && !end.disputed || a.State == StateSubmitted && !end.disputed {
			continue // a refund after the deadline, or an accept or claim of a result not refused: Settle's
		}
		done = append(done, ended{a, end, cl})
	}
	if len(done) == 0 {
		if promoted {
			if err := c.save(j); err != nil {
				c.log.Warn("ledger", "job", j.ID, "err", err)
			}
		}
		return
	}
	key := j.ID.String()
	for _, d := range done {
		if d.end.forProvider {
			d.a.State, d.a.Error = StatePaid, d.end.note
			j.Paid = new(big.Int).Add(orZero(j.Paid), d.a.Price)
			how := "claim"
			if d.end.disputed {
				how = "resolve"
			}
			c.m.Paid(how, d.a.Price)
		} else {
			d.a.State, d.a.Error = StateRefunded, d.end.note
			c.m.Paid("refund", d.end.refund)
		}
	}
	hasWinner := j.ResultCID != ""
	awaiting := slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
		return a.State == StateAwarded || a.State == StatePaying || a.State == StateSubmitted || a.State == StateDisputed
	})
	switch {
	case hasWinner:
		j.State = StatePaid
	case !awaiting && !slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StatePaid }) &&
		slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StateRefunded }):
		j.State = StateRefunded
	case !awaiting && !j.State.Terminal():
		j.State = StateFailed
	}
	more := func(tx *ledger.Tx) error {
		for _, d := range done {
			if err := closeDisputedDeal(tx, d.a.DealID, d.end, d.c.Log.TxHash); err != nil {
				return err
			}
			if d.end.refund != nil {
				// What the contract credited, recorded before
				// putClientAssignment's (same ID: the first one wins).
				if err := tx.RecordPayment(ledger.Payment{ID: "refunded/" + d.a.DealID.Hex(), Kind: ledger.PaymentRefunded,
					Amount: d.end.refund, JobID: key, Ref: d.a.DealID, Tx: d.c.Log.TxHash, Peer: d.a.Addr, Note: d.end.note}); err != nil {
					return err
				}
			}
			if d.end.forProvider && d.end.disputed {
				// The mediator found the committed output right.
				if addr, err := AddressOf(d.a.Provider); err == nil {
					rep, err := tx.RecordOutcome(addr, key, ledger.OutcomeSuccess)
					if err != nil {
						return err
					}
					c.mu.Lock()
					c.rep[addr] = rep
					c.mu.Unlock()
				}
			}
		}
		return nil
	}
	if err := c.saveWith(j, more); err != nil {
		c.log.Warn("ledger", "job", j.ID, "err", err)
		return
	}
	c.emit(j.ID, j.State, "dispute settled")
}

// dispute opens a dispute of a's deal and reports whether the chain has
// it disputed (a failed send whose transaction landed anyway counts).
// A dispute that did not land leaves a failed (not accepted) for Settle:
// the provider may claim after the challenge window.
func (c *Client) dispute(ctx context.Context, j *Job, a *Assignment) bool {
	_, err := c.d.Settle.Dispute(ctx, *a.Deal)
	if err == nil {
		return true
	}
	if st, serr := c.d.Settle.Deal(ctx, a.DealID); serr == nil && st.Status == contracts.DealDisputed {
		return true
	}
	c.log.Warn("dispute", "job", j.ID, "provider", a.Provider, "err", err)
	a.Error = joinErr(a.Error, "dispute failed: "+err.Error())
	return false
}

// joinErr appends msg to an assignment's error text.
func joinErr(cur, msg string) string {
	if cur == "" {
		return msg
	}
	return cur + "; " + msg
}
