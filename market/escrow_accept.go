package market

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// The escrow accept is off the job's critical path (issue 9; see
// docs/rationale/market.md "Why is an escrow result returned before the
// accept, and delivered before its commitment?"). decide writes the verdict, hands the outcome to Wait, and
// only then does acceptLater send the accept transaction, once the
// provider's result commitment is on chain (the contract's accept needs
// it; the provider delivers its result while that transaction is still
// in flight). Until the accept lands the job and its winning assignments
// are StateVerified: the ledger records no payment, and the deal stays
// opened in the ledger (the chain may be ahead of the ledger, never
// behind). A client stopped in between accepts from Settle when it comes
// back; a client that never accepts is claimed from by the provider after
// the challenge window (Settle then records it paid); a provider whose
// commitment never lands before the deal deadline is refunded.

// StateVerified (client, escrow): the result checked out and was returned
// to Wait; the accept transaction that pays it is not on chain yet. Not
// terminal: it ends paid (accepted, or claimed after the challenge
// window) or refunded (no commitment before the deal deadline). Both a
// job and its winning assignments carry it.
const StateVerified State = "verified"

// acceptTarget is one verified escrow assignment to accept.
type acceptTarget struct {
	provider peer.ID
	deal     contracts.DealParams
	id       common.Hash
}

// acceptMaxPoll caps the wait between two looks at a deal whose
// commitment has not landed yet (the first is 1 ms: a dev chain seals in
// a few).
const acceptMaxPoll = time.Second

// acceptLater accepts j's verified escrow assignments in the background
// (Close waits for it). Settle leaves the job alone until it is done;
// SettleDisputes does not (it acts on other assignments of the job and
// writes them onto the ledger's current record: commitDisputes).
func (c *Client) acceptLater(j *Job) {
	var ts []acceptTarget
	for _, a := range j.Assigned {
		if a.State == StateVerified && a.Deal != nil {
			ts = append(ts, acceptTarget{a.Provider, *a.Deal, a.DealID})
		}
	}
	if len(ts) == 0 || !c.claimAccept(j.ID) {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.releaseAccept(j.ID)
		c.acceptAll(c.ctx, j.ID, ts)
	}()
}

// claimAccept marks id's accepts as under way; false: they already are.
func (c *Client) claimAccept(id wire.JobID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.accepting == nil {
		c.accepting = map[wire.JobID]bool{}
	}
	if c.accepting[id] {
		return false
	}
	c.accepting[id] = true
	return true
}

func (c *Client) releaseAccept(id wire.JobID) {
	c.mu.Lock()
	delete(c.accepting, id)
	c.mu.Unlock()
}

// acceptBusy reports whether acceptLater is working on id.
func (c *Client) acceptBusy(id wire.JobID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accepting[id]
}

// acceptAll accepts each target once its commitment is on chain. It
// gives a target up to Settle when the deal is no longer waiting for a
// commitment (closed: claimed or refunded; disputed) or its deadline has
// passed (Settle refunds it), and stops when ctx ends (Settle, after a
// restart too, finishes it).
func (c *Client) acceptAll(ctx context.Context, id wire.JobID, ts []acceptTarget) {
	pollBackoff(ctx, acceptMaxPoll, func() bool {
		ts = slices.DeleteFunc(ts, func(x acceptTarget) bool { return c.acceptOne(ctx, id, x) })
		return len(ts) == 0
	})
}

// pollBackoff calls look at once and then after delays doubling from
// 1 ms up to max, until look reports done or ctx ends (a dev chain seals
// a block in a few ms; a real one in seconds). It reports whether look
// finished.
func pollBackoff(ctx context.Context, max time.Duration, look func() bool) bool {
	delay := time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		if look() {
			return true
		}
		t.Reset(delay)
		delay = min(2*delay, max)
	}
}

// acceptOne tries to accept x; true when x needs no more tries here.
func (c *Client) acceptOne(ctx context.Context, id wire.JobID, x acceptTarget) bool {
	log := c.log.With("job", id, "provider", x.provider)
	st, err := c.d.Settle.Deal(ctx, x.id)
	if err != nil {
		log.Debug("deal state", "err", err)
		return ctx.Err() != nil
	}
	switch st.Status {
	case contracts.DealSubmitted:
		if _, err := c.d.Settle.Accept(ctx, x.deal); err != nil {
			// Raced by the provider's claim, or the chain said no: the
			// next look (or Settle) sees how the deal stands.
			log.Info("accept", "err", err)
			return ctx.Err() != nil
		}
		if err := c.recordAccepted(id, x.provider); err != nil {
			// The chain paid; Settle reads the closed deal as paid.
			log.Warn("ledger", "err", err)
		}
		return true
	case contracts.DealOpen:
		now, err := c.chainNow(ctx)
		return err == nil && now > x.deal.Deadline // past it: Settle refunds
	}
	return true // closed or disputed: Settle records what the chain says
}

// recordAccepted writes that the client's accept of provider p's result
// for job id went through: the assignment is paid, and the job too once
// no accept is pending. It reads and writes the job in one ledger
// transaction, so a concurrent write of another assignment is not lost.
func (c *Client) recordAccepted(id wire.JobID, p peer.ID) error {
	var price *big.Int
	var j *Job
	err := update(c.d.Ledger, func(tx *ledger.Tx) error {
		price = nil
		lj, err := tx.Job(id.String())
		if err != nil {
			return err
		}
		if j, err = clientJobOf(lj); err != nil {
			return err
		}
		i := slices.IndexFunc(j.Assigned, func(a Assignment) bool { return a.Provider == p && a.State == StateVerified })
		if i < 0 {
			return nil // recorded already (Settle saw the closed deal)
		}
		a := &j.Assigned[i]
		a.State, price = StatePaid, a.Price
		j.Paid = new(big.Int).Add(orZero(j.Paid), a.Price)
		if j.State == StateVerified && !slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StateVerified }) {
			j.State = StatePaid
		}
		j.Updated = time.Now()
		return putClientJob(tx, j)
	})
	if err != nil || price == nil {
		return err
	}
	c.m.Paid("accept", price)
	if j.State == StatePaid {
		c.m.Job("client", StatePaid)
		c.emit(id, StatePaid, "paid %s (accepted on chain)", wire.FormatWei(j.Paid))
	}
	return nil
}

// settleVerified is Settle's step for a verified assignment whose deal
// has the provider's commitment (st submitted) and no accept under way
// (the client restarted between its verdict and its accept, or the
// accept failed): accept it. It reports whether a changed.
func (c *Client) settleVerified(ctx context.Context, j *Job, a *Assignment) bool {
	if _, err := c.d.Settle.Accept(ctx, *a.Deal); err != nil {
		// Retried next tick; the provider claims after the challenge
		// window if it never goes through (Settle then records it paid).
		c.log.Info("accept", "job", j.ID, "provider", a.Provider, "err", err)
		return false
	}
	a.State = StatePaid
	j.Paid = new(big.Int).Add(orZero(j.Paid), a.Price)
	c.m.Paid("accept", a.Price)
	return true
}

// refundedVerified notes on a verified assignment that its deal was
// refunded: the provider's commitment never landed before the deadline.
func refundedVerified(a *Assignment) {
	if a.State == StateVerified {
		a.Error = joinErr(a.Error, "refunded: the provider's result commitment did not land before the deal deadline (the verified result is kept)")
	}
}

// acceptPending reports whether an accept of j is still to come.
func acceptPending(j *Job) bool {
	return slices.ContainsFunc(j.Assigned, func(a Assignment) bool { return a.State == StateVerified })
}

// WaitSettled blocks until job id's money has moved as far as this
// client moves it: until its state is terminal (Wait returns an escrow
// job's outcome as soon as the result checks out, in StateVerified; the
// accept follows). It polls the ledger every TickInterval and on the
// job's events.
//
// # Errors
//
// ErrNotFound for an unknown job; ctx.Err().
func (c *Client) WaitSettled(ctx context.Context, id wire.JobID) (*Job, error) {
	evs, stop := c.Events(id)
	defer stop()
	t := time.NewTicker(c.cfg.TickInterval)
	defer t.Stop()
	for {
		j, err := c.Job(id)
		if err != nil {
			return nil, err
		}
		if j.State.Terminal() {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("job %s still %s: %w", id, j.State, ctx.Err())
		case <-evs:
		case <-t.C:
		}
	}
}

// disputesAhead reports whether decide is about to dispute a result of
// j's round from first (a submitted one that is not the winner), so the
// verdicts must be written before the dispute transaction goes out.
func disputesAhead(j *Job, first int, found bool, win [32]byte) bool {
	for _, a := range j.Assigned[first:] {
		if a.State == StateSubmitted && !(found && a.Verified && a.OutputHash == win) {
			return true
		}
	}
	return false
}
