package ledger

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// This file holds what the market needs beyond single validated edges:
// moving a record along several legal edges at once (Advance), paying for
// a job with a voucher that need not be higher than the last one
// (AcceptPayment), and channel credits for refunded channel jobs
// (CreditJob, Redeemable).

// setPromised records that the channel's jobs now cost cum (a voucher v
// for cum was signed): Promised becomes the highest voucher (v is Latest
// when it is that one) and Credit what Promised holds above cum.
func setPromised(c *Channel, cum *big.Int, v *Voucher) {
	if cum.Cmp(c.Promised) > 0 {
		c.Promised, c.Latest = new(big.Int).Set(cum), v
	}
	c.Credit = new(big.Int).Sub(c.Promised, cum)
	if c.Credit.Sign() == 0 {
		c.Credit = nil
	}
}

// shortestPath returns the states after from on a shortest legal path to
// to (nil when to is not reachable).
func (m machine[S]) shortestPath(from, to S) []S {
	prev := map[S]S{}
	seen := map[S]bool{from: true}
	queue := []S{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, t := range m.edges[s] {
			if seen[t] {
				continue
			}
			seen[t], prev[t] = true, s
			if t == to {
				var path []S
				for x := to; x != from; x = prev[x] {
					path = append([]S{x}, path...)
				}
				return path
			}
			queue = append(queue, t)
		}
	}
	return nil
}

// Advance moves job id to state to along the shortest path of legal edges
// (one Event per edge), after applying mutate to a copy of the record. It
// is for a caller whose own steps are coarser than the state machine (a
// provider that verified the payment in the same step as the award):
// every edge is still checked, and nothing moves backwards.
//
// Already in to: the fields are updated (no Event). Already past to (to is
// behind the record's state): the fields are updated and the state is
// kept — a replay or a late save; the returned record says where it is.
//
// # Errors
//
// ErrNotFound, ErrInvalid (unknown state, mutate changed ID/Role/State),
// *TransitionError when to is neither ahead nor behind (say a terminal
// record asked to move elsewhere), or mutate's error (nothing written).
func (tx *Tx) Advance(id string, to JobState, mutate func(*Job) error) (Job, error) {
	var path []JobState
	var cur Job
	check := func(c Job) (bool, error) {
		cur = c
		m, _ := jobMachine(cur.Role)
		if !m.known(to) {
			return false, fmt.Errorf("%w: %q is not a %s job state", ErrInvalid, to, cur.Role)
		}
		if cur.State != to {
			path = m.shortestPath(cur.State, to)
			if path == nil && !m.reachable(to, cur.State) {
				return false, &TransitionError{Kind: "job", ID: id, From: string(cur.State), To: string(to)}
			}
		}
		// Moving: the record is written once, in its last state, below.
		return len(path) == 0, nil
	}
	_, next, err := tx.updateJob(id, check, func(j *Job) error {
		if err := callMutate(mutate, j); err != nil {
			return err
		}
		if j.State != cur.State {
			return fmt.Errorf("%w: Advance's mutate may not change the state", ErrInvalid)
		}
		return nil
	})
	if err != nil || len(path) == 0 {
		return next, err
	}
	// One write of the record in its last state and one Event per edge:
	// what writing it at every edge left, without the records in between
	// that the next edge overwrote in the same transaction.
	from := next.State
	next.State, next.Updated = path[len(path)-1], tx.now
	if _, err := tx.putJob(next); err != nil {
		return Job{}, err
	}
	for i, s := range path {
		note := ""
		if i == len(path)-1 {
			note = next.Note
			if note == cur.Note {
				note = ""
			}
		}
		if err := tx.appendEvent("job", id, id, string(from), string(s), note); err != nil {
			return Job{}, err
		}
		from = s
	}
	return next, nil
}

// AdvanceDeal moves deal id to state to along legal edges (several at
// once when the chain is ahead), or only updates its fields when it is
// already there or past it. See Advance.
func (tx *Tx) AdvanceDeal(id common.Hash, to DealState, mutate func(*Deal) error) (Deal, error) {
	cur, err := tx.Deal(id)
	if err != nil {
		return Deal{}, err
	}
	if cur.State != to && (cur.State.Terminal() || !deals.reachable(cur.State, to) && deals.reachable(to, cur.State)) {
		// Past it, or settled already (reconciliation with the chain may
		// know better how a deal closed): keep the state.
		to = cur.State
	}
	return tx.moveDeal(id, to, mutate, true)
}

// AcceptPayment (provider side) records that voucher v pays price for
// jobID on its channel: the best voucher held, v or a higher one accepted
// before, must cover everything charged on the channel so far plus price
// (v need not be higher than the best: a credit from a refunded job, or a
// concurrent job's award that overtook this one, covers it), and v may
// not exceed the recorded deposit. The voucher is stored when new; the
// channel's Promised is the highest held, Credit what it holds above the
// charges. The caller checked the signature. Paying twice for the same
// job is ErrDuplicate.
//
// # Errors
//
// ErrNotFound (unknown channel), ErrInvalid, ErrBadTransition (channel
// not open), ErrVoucherNotHigher (v does not cover charged + price),
// ErrInsufficientDeposit, ErrDuplicate.
func (tx *Tx) AcceptPayment(v Voucher, jobID string, price *big.Int) (Channel, error) {
	if v.Cumulative == nil || v.Cumulative.Sign() <= 0 || len(v.Signature) == 0 || price == nil || price.Sign() <= 0 {
		return Channel{}, fmt.Errorf("%w: payment needs a positive voucher, a signature and a positive price", ErrInvalid)
	}
	if err := checkID(jobID); err != nil {
		return Channel{}, err
	}
	c, err := tx.openChannel(v.ChannelID, RoleProvider)
	if err != nil {
		return c, err
	}
	// Awards of concurrent jobs can arrive out of the order their
	// vouchers were signed in: what counts is that the best voucher held
	// (this one or an earlier, higher one) covers every job charged.
	need := new(big.Int).Add(c.Charged(), price)
	best := c.Promised
	if v.Cumulative.Cmp(best) > 0 {
		best = v.Cumulative
	}
	if best.Cmp(need) < 0 {
		return c, fmt.Errorf("%w: channel %s: voucher %s does not cover %s charged + %s", ErrVoucherNotHigher, v.ChannelID, v.Cumulative, c.Charged(), price)
	}
	if v.Cumulative.Cmp(c.Deposit) > 0 {
		return c, fmt.Errorf("%w: channel %s: voucher %s > deposit %s", ErrInsufficientDeposit, v.ChannelID, v.Cumulative, c.Deposit)
	}
	if err := tx.MarkSeen("pay/"+v.ChannelID.Hex(), jobID); err != nil {
		return c, err
	}
	v.Cumulative, v.JobID, v.Amount, v.At = new(big.Int).Set(v.Cumulative), jobID, new(big.Int).Set(price), tx.now
	if err := tx.putVoucher(v); err != nil {
		return c, err
	}
	if c.Unredeemed().Sign() == 0 {
		c.UnredeemedSince = tx.now
	}
	from := c.Charged().String()
	if v.Cumulative.Cmp(c.Promised) > 0 {
		c.Promised, c.Latest = new(big.Int).Set(v.Cumulative), &v
	}
	c.Credit = new(big.Int).Sub(c.Promised, need)
	if c.Credit.Sign() == 0 {
		c.Credit = nil
	}
	c.Updated = tx.now
	if err := tx.putChannel(c); err != nil {
		return c, err
	}
	return c, tx.appendEvent("voucher", v.ChannelID.Hex(), jobID, from, need.String(), "accepted")
}

// CreditJob gives back amount on channel chID for jobID: a channel job
// that ran into the sandbox's limits (or that the provider failed) is not
// charged. Both sides call it — the provider before it sends the failure
// result, the client when it receives it — so they agree on Charged() and
// the client's next voucher reuses the amount. Idempotent per (channel,
// job); the credit never exceeds what was charged. It may exceed what is
// left unredeemed: a provider may redeem a job's voucher right after the
// award, before the run, and the job must still be creditable in full on
// both sides, or the client's next voucher (which reuses the amount) is
// refused. The money already redeemed then pays for the next job: Charged
// may fall below Redeemed until later jobs catch up, and Redeemable and
// Unredeemed treat that as nothing to redeem.
func (tx *Tx) CreditJob(chID common.Hash, jobID string, amount *big.Int) (Channel, error) {
	if amount == nil || amount.Sign() <= 0 {
		return Channel{}, fmt.Errorf("%w: credit amount must be positive", ErrInvalid)
	}
	if err := checkID(jobID); err != nil {
		return Channel{}, err
	}
	c, err := tx.Channel(chID)
	if err != nil {
		return c, err
	}
	if err := tx.MarkSeen("credit/"+chID.Hex(), jobID); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return c, nil
		}
		return c, err
	}
	room := c.Charged()
	a := new(big.Int).Set(amount)
	if a.Cmp(room) > 0 {
		a = room
	}
	if a.Sign() <= 0 {
		return c, nil
	}
	from := c.Charged().String()
	c.Credit = new(big.Int).Add(bigOr0(c.Credit), a)
	c.Updated = tx.now
	if err := tx.putChannel(c); err != nil {
		return c, err
	}
	return c, tx.appendEvent("voucher", chID.Hex(), jobID, from, c.Charged().String(), "credited "+a.String())
}

// Redeemable (provider side) returns the voucher to redeem on channel chID:
// the highest one held whose amount is at most Charged() and above
// Redeemed. ok is false when there is none.
func (tx *Tx) Redeemable(chID common.Hash) (v Voucher, ok bool, err error) {
	c, err := tx.Channel(chID)
	if err != nil {
		return Voucher{}, false, err
	}
	vs, err := tx.Vouchers(chID)
	if err != nil {
		return Voucher{}, false, err
	}
	charged := c.Charged()
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Cumulative.Cmp(charged) <= 0 {
			if vs[i].Cumulative.Cmp(c.Redeemed) > 0 && len(vs[i].Signature) > 0 {
				return vs[i], true, nil
			}
			return Voucher{}, false, nil
		}
	}
	return Voucher{}, false, nil
}

// PutVoucher stores v as is in the channel's voucher list without
// touching the channel. It is for importing records kept elsewhere (the
// market's old journal); live vouchers go through IssueVoucher and
// AcceptPayment.
func (tx *Tx) PutVoucher(v Voucher) error {
	if v.Cumulative == nil || v.Cumulative.Sign() <= 0 || len(v.Signature) == 0 {
		return fmt.Errorf("%w: voucher needs a positive cumulative amount and a signature", ErrInvalid)
	}
	if _, err := tx.Channel(v.ChannelID); err != nil {
		return err
	}
	return tx.putVoucher(v)
}
