package market

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"time"

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
		// An escrow accept under way for this job (acceptLater) does not
		// hold it back: the accept acts only on verified assignments, this
		// only on disputable ones, and each writes its own onto the
		// ledger's current record (commitDisputes, recordAccepted).
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

// redisputable: a is a refused result whose dispute transaction failed
// (a nonce or gas error, the chain down, the commitment too slow for
// awaitCommitment): its deal names a mediator, so decide disputed it,
// and the chain did not have it disputed then.
func redisputable(a Assignment) bool {
	return a.Deal != nil && a.State == StateFailed && a.ResultCID != "" && !a.Stopped && a.Deal.Mediator != (common.Address{})
}

// redispute sends a's dispute again, on a settle tick after the first
// one failed, while the challenge window is open (st: the deal
// submitted at st.At; now: chain time). It reports whether the chain has
// the deal disputed: a transaction that landed though its send reported
// an error (a lost receipt) counts, and the next tick sees the deal
// disputed and sends nothing. A dispute that never lands before the
// window closes leaves the deal to the provider's claim, which the
// client records as claimed.
func (c *Client) redispute(ctx context.Context, j *Job, a *Assignment, st contracts.DealState, now uint64) bool {
	if now > st.At+a.Deal.ChallengeWindow {
		return false // too late: the contract reverts TooLate; the provider may claim
	}
	_, err := c.d.Settle.Dispute(ctx, *a.Deal)
	if err != nil {
		if s, serr := c.d.Settle.Deal(ctx, a.DealID); serr != nil || s.Status != contracts.DealDisputed {
			c.log.Info("dispute retry failed; tried again next tick", "job", j.ID, "provider", a.Provider, "err", err)
			return false
		}
	}
	c.log.Info("dispute retried: landed", "job", j.ID, "provider", a.Provider)
	a.Error = joinErr(a.Error, "dispute sent again: landed")
	return true
}

// disputeDone is one disputable assignment whose deal the chain ended.
type disputeDone struct {
	i   int // index in the job's assignments
	end disputeEnd
	c   contracts.DealClosing
}

func (c *Client) settleDisputed(ctx context.Context, dc DisputeChain, j *Job, now uint64) {
	var done []disputeDone
	var promoted []int
	seen := make([]State, len(j.Assigned)) // each assignment's state as read
	for i := range j.Assigned {
		seen[i] = j.Assigned[i].State
	}
	for i := range j.Assigned {
		a := &j.Assigned[i]
		if !disputable(*a) {
			continue
		}
		st, err := c.d.Settle.Deal(ctx, a.DealID)
		if err != nil {
			continue
		}
		if st.Status == contracts.DealSubmitted && redisputable(*a) && c.redispute(ctx, j, a, st, now) {
			st.Status = contracts.DealDisputed // the retried dispute landed
		}
		if st.Status == contracts.DealDisputed && a.State != StateDisputed {
			a.State = StateDisputed // the failed dispute landed
			promoted = append(promoted, i)
		}
		if st.Status == contracts.DealDisputed && a.Deal.Mediator != (common.Address{}) {
			c.bringCase(ctx, j, a)
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
		forgetCase(c.d.Net.ID(), a.DealID)
		done = append(done, disputeDone{i, end, cl})
	}
	if len(done) == 0 && len(promoted) == 0 {
		return
	}
	c.commitDisputes(j, seen, promoted, done)
}

// commitDisputes writes what settleDisputed found onto job j as the
// ledger has it now, in one transaction (read, change, write), as
// recordAccepted does: the chain calls above take blocks, and meanwhile
// acceptLater (escrow_accept.go) may have written a winner paid. The two
// never act on one assignment (the accept only on verified ones, this
// only on disputable ones: disputed, submitted, refused), so each
// applies its own assignments' changes to the fresh record and neither
// write loses the other's. An assignment that is no longer in the state
// settleDisputed read it in is left alone (the next tick looks again).
// A job with a winner whose accepts are still to come stays verified;
// the last accept makes it paid (recordAccepted).
func (c *Client) commitDisputes(j *Job, seen []State, promoted []int, done []disputeDone) {
	key := j.ID.String()
	var fresh *Job
	var applied []disputeDone
	err := update(c.d.Ledger, func(tx *ledger.Tx) error {
		fresh, applied = nil, applied[:0]
		lj, err := tx.Job(key)
		if err != nil {
			return err
		}
		f, err := clientJobOf(lj)
		if err != nil {
			return err
		}
		// at is j's assignment i in f, unless it moved on since it was read.
		at := func(i int) *Assignment {
			if i >= len(f.Assigned) {
				return nil
			}
			fa, mine := &f.Assigned[i], &j.Assigned[i]
			if fa.Provider != mine.Provider || fa.DealID != mine.DealID || fa.State != seen[i] && fa.State != mine.State {
				return nil
			}
			return fa
		}
		changed := false
		for _, i := range promoted {
			if fa := at(i); fa != nil && fa.State != StateDisputed {
				fa.State, changed = StateDisputed, true
			}
		}
		for _, d := range done {
			fa := at(d.i)
			if fa == nil {
				continue
			}
			if d.end.forProvider {
				fa.State, fa.Error = StatePaid, d.end.note
				f.Paid = new(big.Int).Add(orZero(f.Paid), fa.Price)
			} else {
				fa.State, fa.Error = StateRefunded, d.end.note
			}
			if err := c.recordDisputeEnd(tx, key, fa, d); err != nil {
				return err
			}
			applied, changed = append(applied, d), true
		}
		if !changed {
			return nil
		}
		if len(applied) > 0 {
			f.State = disputedJobState(f)
		}
		f.Updated = time.Now()
		fresh = f
		return putClientJob(tx, f)
	})
	if err != nil {
		c.log.Warn("ledger", "job", j.ID, "err", err)
		return
	}
	if fresh == nil || len(applied) == 0 {
		return
	}
	for _, d := range applied {
		a := j.Assigned[d.i]
		switch {
		case d.end.forProvider && d.end.disputed:
			c.m.Paid("resolve", a.Price)
		case d.end.forProvider:
			c.m.Paid("claim", a.Price)
		default:
			c.m.Paid("refund", d.end.refund)
		}
	}
	*j = *fresh
	c.emit(j.ID, j.State, "dispute settled")
}

// disputedJobState is the state of client job j once some of its
// disputed or refused deals ended: a job with a winner is paid, or still
// verified while a winner's accept is to come; a job without one is
// refunded when every deal came back, else failed once none is awaited.
func disputedJobState(j *Job) State {
	awaiting := slices.ContainsFunc(j.Assigned, func(a Assignment) bool {
		return a.State == StateAwarded || a.State == StatePaying || a.State == StateSubmitted || a.State == StateDisputed
	})
	switch {
	case j.ResultCID != "" && acceptPending(j):
		return j.State // verified: the accepts follow (escrow_accept.go)
	case j.ResultCID != "":
		return StatePaid
	case !awaiting && !slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StatePaid }) &&
		slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StateRefunded }):
		return StateRefunded
	case !awaiting && !j.State.Terminal():
		return StateFailed
	}
	return j.State
}

// recordDisputeEnd writes, in tx, the ledger side of a's disputed or
// refused deal ended as d says: the deal closed, the mediator fee, the
// refund the contract credited, and for a ruling for the provider its
// rating for the job a success.
func (c *Client) recordDisputeEnd(tx *ledger.Tx, key string, a *Assignment, d disputeDone) error {
	if err := closeDisputedDeal(tx, a.DealID, d.end, d.c.Log.TxHash); err != nil {
		return err
	}
	if err := recordDisputeFee(tx, key, a.DealID, a.Deal, d.end, d.c.Log.TxHash); err != nil {
		return err
	}
	if d.end.refund != nil {
		// What the contract credited, recorded before
		// putClientAssignment's (same ID: the first one wins).
		if err := tx.RecordPayment(ledger.Payment{ID: "refunded/" + a.DealID.Hex(), Kind: ledger.PaymentRefunded,
			Amount: d.end.refund, JobID: key, Ref: a.DealID, Tx: d.c.Log.TxHash, Peer: a.Addr, Note: d.end.note}); err != nil {
			return err
		}
	}
	if d.end.forProvider && d.end.disputed {
		// The mediator found the committed output right.
		if addr, err := AddressOf(a.Provider); err == nil {
			rep, err := tx.RecordOutcome(addr, key, ledger.OutcomeSuccess)
			if err != nil {
				return err
			}
			c.mu.Lock()
			c.rep[addr] = rep
			c.mu.Unlock()
		}
	}
	return nil
}

// bringCase hands a's disputed deal to its mediator (ClientConfig.MediatorPeer,
// when its address is the one the deal names), at most once per
// caseRecheck while the mediator has it, with backoff after a refusal.
func (c *Client) bringCase(ctx context.Context, j *Job, a *Assignment) {
	mp, ok := mediatorPeerFor(a.Deal.Mediator, c.cfg.MediatorPeer)
	if !ok {
		return
	}
	r, err := caseSender{net: c.d.Net, seal: c.d.Seal, log: c.log}.bring(ctx, mp, a.Deal, a.DealID, j.ID, &j.Spec)
	logCase(c.log, j.ID, a.DealID, r, err)
}

// dispute opens a dispute of a's deal and reports whether the chain has
// it disputed (a failed send whose transaction landed anyway counts).
// A dispute that did not land leaves a failed (not accepted) for Settle:
// the provider may claim after the challenge window.
func (c *Client) dispute(ctx context.Context, j *Job, a *Assignment) bool {
	_, err := c.d.Settle.Dispute(ctx, *a.Deal)
	if errors.Is(err, contracts.ErrBadDealState) && c.awaitCommitment(ctx, a) {
		_, err = c.d.Settle.Dispute(ctx, *a.Deal)
	}
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

// disputeCommitWait bounds how long a dispute waits for the provider's
// result commitment to land.
const disputeCommitWait = 30 * time.Second

// awaitCommitment waits, at most disputeCommitWait, for a's deal to leave
// "open": an escrow provider delivers its result while its commitment is
// mined (escrow_commit.go), and the contract disputes only a committed
// result. It reports whether the deal is now submitted.
func (c *Client) awaitCommitment(ctx context.Context, a *Assignment) bool {
	ctx, cancel := context.WithTimeout(ctx, disputeCommitWait)
	defer cancel()
	submitted := false
	pollBackoff(ctx, time.Second, func() bool {
		st, err := c.d.Settle.Deal(ctx, a.DealID)
		if err != nil {
			return false
		}
		submitted = st.Status == contracts.DealSubmitted
		return st.Status != contracts.DealOpen
	})
	return submitted
}

// joinErr appends msg to an assignment's error text.
func joinErr(cur, msg string) string {
	if cur == "" {
		return msg
	}
	return cur + "; " + msg
}
