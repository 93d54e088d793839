package market

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// Channel assignments the client stops waiting for before their deadline,
// and results that come after the process stopped waiting
// (docs/rationale/market.md, "Why does a client that gives up early
// cancel a channel job?").

// errGivenUpCredited is the assignment error of a channel provider the
// client gave up on (RunOptions.ResultTimeout) and that credited the job
// on the client's Cancel.
const errGivenUpCredited = "given up before the deadline; cancelled, its price credited back on the channel"

// errGivenUpOpen is the assignment error of a channel provider the client
// gave up on that did not answer the Cancel: the assignment stays open
// until its deadline (Settle pays a result, credits silence).
const errGivenUpOpen = "given up before the deadline; settled by its result or its deadline"

// cancelTimeout bounds one Cancel round trip when giving up.
const cancelTimeout = 5 * time.Second

// openVoucher reports whether a is a channel assignment whose voucher is
// not settled yet: awarded and silent, or a result not yet verified. Such
// a job is not terminal in the ledger (store.go outstanding), so Settle
// pays or credits it even after the job's process ended.
func openVoucher(a Assignment) bool {
	if a.Channel == (common.Hash{}) || a.Credited || a.Price == nil || a.Price.Sign() <= 0 {
		return false
	}
	return a.State == StateAwarded || a.State == StateSubmitted && a.ResultCID != "" && !a.Verified
}

// voucherSpent reports whether a is a channel assignment that failed on
// a result it delivered (outvoted, unfetchable, a wrong hash): its
// voucher was not credited and the provider counts the job delivered and
// paid, so the client's ledger records the payment too (verdict
// "disagree"), and its Paid agrees with what the chain will redeem.
func voucherSpent(a *Assignment) bool {
	return a.Channel != (common.Hash{}) && a.State == StateFailed && a.ResultCID != "" && !a.Credited &&
		a.Price != nil && a.Price.Sign() > 0
}

// giveUp runs when a round's wait ends before the job's full deadline
// (full: the award plus timeout plus ResultMargin; a RunOptions.ResultTimeout
// shorter than that). Each channel assignment of the round still waiting
// is sent a Cancel, at once and in parallel:
//   - the provider credits the job (it had no result yet): the client
//     credits it too, in the same transaction as the assignment, failed;
//   - the provider already has a result: the client waits for it, up to
//     the full deadline (giveUp returns how many);
//   - no answer: the assignment stays awarded, given up but open; a
//     result that still comes is recorded (lateResult, recordResult) and
//     paid by Settle; past the deadline Settle asks the provider again
//     and credits only on its "credited" (channel_ask.go).
//
// Escrow assignments are left as they were (refunded after the deal
// deadline, or paid on a result).
func (c *Client) giveUp(ctx context.Context, j *Job, first int, full time.Time) int {
	if j.PayMode != wire.PayChannel || ctx.Err() != nil || !time.Now().Before(full) {
		return 0
	}
	type answer struct {
		i   int
		err error
		ok  bool
	}
	var idx []int
	for i := first; i < len(j.Assigned); i++ {
		if a := j.Assigned[i]; a.State == StateAwarded && a.ResultCID == "" && openVoucher(a) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0
	}
	sealed, err := c.d.Seal(&wire.Cancel{JobID: j.ID, Sender: c.d.Net.ID(), Reason: "given up: no result within the client's wait",
		Expiry: wire.TimestampOf(time.Now().Add(time.Minute))})
	if err != nil {
		c.log.Warn("seal cancel", "job", j.ID, "err", err)
		return 0
	}
	answers := make([]answer, len(idx))
	var wg sync.WaitGroup
	for n, i := range idx {
		p := j.Assigned[i].Provider
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, min(cancelTimeout, time.Until(full)))
			defer cancel()
			reply, err := c.d.Net.Request(cctx, p, sealed)
			answers[n] = answer{i: i, err: err, ok: err == nil && string(reply) == cancelCredited}
		})
	}
	wg.Wait()
	wait := 0
	var credits []func(tx *ledger.Tx) error
	undo := map[int]Assignment{}
	for _, an := range answers {
		a := &j.Assigned[an.i]
		switch {
		case an.ok:
			undo[an.i] = *a
			a.State, a.Credited, a.Error = StateFailed, true, errGivenUpCredited
			c.rate(a.Provider, j.ID, ledger.OutcomeFailure)
			ch, id, price := a.Channel, j.ID.String(), new(big.Int).Set(a.Price)
			credits = append(credits, func(tx *ledger.Tx) error { _, err := tx.CreditJob(ch, id, price); return err })
		case an.err != nil && strings.Contains(an.err.Error(), errHasResult.Error()):
			wait++
		default:
			a.Error = errGivenUpOpen
			c.log.Info("cancel not confirmed; the assignment stays open until its deadline", "job", j.ID, "provider", a.Provider, "err", an.err)
		}
	}
	if len(credits) > 0 {
		err := c.saveWith(j, func(tx *ledger.Tx) error {
			for _, f := range credits {
				if err := f(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// Not written: the assignments stay open, and their credit
			// comes with the deadline (Settle) as for a silent provider.
			for i, a := range undo {
				j.Assigned[i] = a
			}
			c.log.Warn("ledger: credit cancelled channel job", "job", j.ID, "err", err)
		} else {
			c.emit(j.ID, j.State, "%d provider(s) given up on: cancelled, price credited back on the channel", len(credits))
		}
	}
	return wait
}

// lateResult records, in the running process's copy j, a result r for
// assignment i of an earlier round (given up on, still open): it is
// saved as submitted (or, a failure report, failed and credited) for
// Settle to verify and pay once the process ends. It does not count
// toward the current round.
func (c *Client) lateResult(j *Job, i int, r *wire.Result) {
	a := &j.Assigned[i]
	if a.ResultCID != "" || a.State != StateAwarded {
		return
	}
	setResult(a, r)
	if err := c.saveWith(j, c.creditStopped(j, a)); err != nil {
		c.log.Warn("ledger: late result", "job", j.ID, "err", err)
	}
}

// setResult copies r into a: submitted, or failed and stopped for a
// failure report.
func setResult(a *Assignment, r *wire.Result) {
	a.ResultCID, a.OutputHash, a.ExitCode, a.Usage, a.Error = r.ResultCID, r.OutputHash, r.ExitCode, r.Usage, ""
	a.State = StateSubmitted
	if stoppedResult(r) {
		a.State, a.Stopped, a.Error = StateFailed, true, r.Error
	}
}

// forwardResult hands r to the process waiting for its job, with ack for
// the process to close once r is written (result_ack.go), and returns the
// process's done channel, nil when it did not hand r over. The hand-off is
// made under c.mu so that retire, which marks the process gone under the
// same lock, then drains every result handed to it: none is left in a
// channel nobody reads.
func (c *Client) forwardResult(r *wire.Result, ack chan struct{}) <-chan struct{} {
	c.mu.Lock()
	f := c.jobs[r.JobID]
	if f == nil || f.retired {
		c.mu.Unlock()
		return nil
	}
	select {
	case f.results <- resultIn{from: r.Provider, res: r, ack: ack}:
		c.mu.Unlock()
		return f.done
	default:
	}
	c.mu.Unlock()
	select { // the buffer is full: wait for the process, or record it
	case f.results <- resultIn{from: r.Provider, res: r, ack: ack}:
		return f.done
	case <-f.done:
		return nil
	}
}

// retire marks the process of job id as gone (before its done channel
// closes) and records the results handed to it that it did not read.
func (c *Client) retire(id wire.JobID, f *inflight) {
	c.mu.Lock()
	f.retired = true
	c.mu.Unlock()
	for {
		select {
		case r := <-f.results:
			if err := c.recordResult(r.res); err != nil {
				c.log.Info("late result", "job", id, "provider", r.from, "err", err)
			}
			closeAck(r.ack)
		default:
			return
		}
	}
}

// recordResult records r on its job's ledger record when no process
// waits for it (the client restarted, or the process ended): Settle then
// verifies and pays it (a failure report is credited at once). Only an
// assignment still open takes a result; one already settled (credited,
// refunded, failed) refuses it.
//
// The job is read and written in one transaction: a Settle tick that
// credits the same job meanwhile (its ask made the provider send this
// failure report) is either seen or comes after, never overwritten.
func (c *Client) recordResult(r *wire.Result) error {
	return update(c.d.Ledger, func(tx *ledger.Tx) error {
		lj, err := tx.Job(r.JobID.String())
		if err != nil {
			return fmt.Errorf("%w: result for unknown job %s", ErrRefused, r.JobID)
		}
		j, err := clientJobOf(lj)
		if err != nil {
			return err
		}
		for i := range j.Assigned {
			a := &j.Assigned[i]
			if a.Provider != r.Provider {
				continue
			}
			if a.ResultCID != "" {
				return fmt.Errorf("%w: result of %s for job %s already received", ErrDuplicate, r.Provider, r.JobID)
			}
			if a.State != StateAwarded && a.State != StatePaying {
				if stoppedResult(r) {
					return nil // a failure report of a job settled already: nothing to do
				}
				return fmt.Errorf("%w: job %s: assignment of %s is %s (%s)", ErrRefused, r.JobID, r.Provider, a.State, a.Error)
			}
			setResult(a, r)
			if credit := c.creditStopped(j, a); credit != nil {
				if err := credit(tx); err != nil {
					return err
				}
			}
			j.Updated = time.Now()
			return putClientJob(tx, j)
		}
		return fmt.Errorf("%w: job %s was not awarded to %s", ErrRefused, r.JobID, r.Provider)
	})
}
