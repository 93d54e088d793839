package market

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// The provider's one-write path for short channel jobs (docs/rationale/market.md,
// "Why may a provider write a short channel job once, with its result?").
//
// A channel award used to cost the provider two fsynced ledger writes in
// sequence on the job's critical path: the job with its voucher at the
// award, then its result. Running the job is not a network action, so the
// provider now starts the run as soon as the voucher checks out and holds
// the award's answer back:
//
//   - the run ends within FastGrace: the job, its voucher and its result
//     (or its failure report and credit) are written in ONE transaction,
//     then the award is answered and the result delivered;
//   - it is still running after FastGrace: the award is written as before
//     (job and voucher), answered, and the run goes on; its result is
//     written when it ends, as execute does.
//
// Either way nothing goes over the network before the ledger has the job:
// the award's answer follows a write. A provider killed in the first
// FastGrace of a run has written nothing and answered nothing: the client
// sees no answer, waits the job's deadline and credits the price (silent
// provider, client_silent.go), which is what this provider's ledger says
// too (no job, no voucher). After FastGrace the job is in the ledger and a
// restart re-runs it (recover), as before.

// defaultFastGrace is ProviderConfig.FastGrace's default: how long a
// channel award's run may take before its award is written on its own;
// runs shorter than that are written once, with their result. It is also
// the longest a client waits for the award's answer more than before, and
// the window in which a crash loses the run (the client is not charged
// for it).
const defaultFastGrace = 100 * time.Millisecond

// errAwardExpired: the award expired before its job could be written.
var errAwardExpired = errors.New("award expired before the job could be recorded")

// fastEligible reports whether award a of r takes the one-write path: a
// channel job on one provider (an award of a redundant job is answered
// at once, the client sends its awards one after the other).
func fastEligible(a *wire.Award, r *ProviderJob) bool {
	return a.PayMode == wire.PayChannel && r.Spec.Redundancy <= 1
}

// recordAward writes award a of r (job key) with its voucher pay (nil for
// escrow) and what more needs (may be nil), in one transaction: a second
// award of the job is ErrDuplicate, a voucher the ledger refuses is
// ErrUnpaid. An award is never written after its expiry (a replayed
// direct award must not be recorded after the client may have credited
// it; see awardExpiry).
func (p *Provider) recordAward(key string, a *wire.Award, r *ProviderJob, pay *ledger.Voucher, more func(tx *ledger.Tx) error) error {
	if !time.Now().Before(a.Expiry.Time()) {
		p.m.Award("expired")
		return fmt.Errorf("%w: %w", ErrRefused, errAwardExpired)
	}
	r.Updated = time.Now()
	err := update(p.d.Ledger, func(tx *ledger.Tx) error {
		if _, err := tx.Job(key); err == nil {
			return fmt.Errorf("%w: award for job %s already accepted", ErrDuplicate, a.JobID)
		}
		if pay != nil {
			if _, err := tx.AcceptPayment(*pay, key, r.Price); err != nil {
				return err
			}
		}
		if err := putProviderJob(tx, r); err != nil {
			return err
		}
		if more != nil {
			return more(tx)
		}
		return nil
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrDuplicate):
		p.m.Award("duplicate")
	case errors.Is(err, ledger.ErrDuplicate), errors.Is(err, ledger.ErrVoucherNotHigher), errors.Is(err, ledger.ErrInsufficientDeposit):
		p.m.Award("unpaid")
		return fmt.Errorf("%w: %v", ErrUnpaid, err)
	}
	return err
}

// awardFast runs the job of the checked channel award a (record r, its
// voucher pay) and writes it once with its result when the run ends
// within FastGrace, or writes the award at FastGrace and lets the run go
// on. It returns the award's answer; accepted reports whether the job is
// now the provider's (written), else nothing was written and the caller
// gives the bid back.
func (p *Provider) awardFast(key string, a *wire.Award, r *ProviderJob, pay *ledger.Voucher) (accepted bool, err error) {
	p.wg.Add(1) // Close waits for the award's write
	defer p.wg.Done()
	award := *r // the record as awarded, before the run fills r
	// A Cancel accepted before the result stops the run (channel_run.go).
	rctx, stop, cancelled := p.jobContext(p.ctx, key)
	ran := make(chan error, 1)
	p.m.Job("provider", StateRunning)
	go func() { ran <- p.run(rctx, r) }()
	grace := time.NewTimer(p.cfg.FastGrace)
	defer grace.Stop()
	finished, runErr := false, error(nil)
	select {
	case runErr = <-ran:
		finished = true
	case <-grace.C:
	}
	if finished && (runErr == nil || p.ctx.Err() == nil) {
		stop()
		more, ok := p.fastOutcome(r, runErr)
		if !ok {
			return false, fmt.Errorf("%w: provider failed the job and could not report it", ErrRefused)
		}
		if err := p.recordAward(key, a, r, pay, more); err != nil {
			return false, err
		}
		p.m.Award("accepted")
		p.m.Job("provider", StateAwarded)
		p.m.Job("provider", r.State)
		p.afterRun(func() { p.deliverFast(r) })
		return true, nil
	}
	// Still running after FastGrace, or stopped by the provider's
	// shutdown: the award is written alone, as before the one-write
	// path; a run the shutdown stopped is run again by recovery.
	if err := p.recordAward(key, a, &award, pay, nil); err != nil {
		stop()
		if !finished {
			<-ran
		}
		return false, err
	}
	p.m.Award("accepted")
	p.m.Job("provider", StateAwarded)
	p.afterRun(func() {
		defer stop()
		runErr := runErr
		if !finished {
			runErr = <-ran
		}
		if cancelled() && p.ctx.Err() == nil {
			runErr = p.failResult(r, errGivenUp) // credited by the Cancel already
		}
		more, ok := p.fastOutcome(r, runErr)
		if !ok {
			return // stopping, or no failure report: recovery re-runs the written job
		}
		if err := p.saveWith(r, more); err != nil {
			p.log.Error("ledger", "job", r.ID, "err", err)
			return
		}
		p.m.Job("provider", r.State)
		p.deliverFast(r)
	})
	return true, nil
}

// afterRun runs fn in a goroutine of p's and then gives the award's slot
// back, as execute does for a fresh job.
func (p *Provider) afterRun(fn func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() {
			p.mu.Lock()
			p.reserved--
			p.mu.Unlock()
			p.changed()
		}()
		fn()
	}()
}

// fastOutcome is execute's step after the run for a channel job, on r:
// a host failure becomes a failure report; a job the sandbox stopped
// (or the host failed) is failed and its price credited back on the
// channel (returned as more, to write with r); any other job is
// submitted (nothing to commit on chain). ok is false when nothing may
// be written: the provider is stopping, or the failure report could not
// be sealed. Keep in step with execute.
func (p *Provider) fastOutcome(r *ProviderJob, runErr error) (more func(tx *ledger.Tx) error, ok bool) {
	if runErr != nil {
		if p.ctx.Err() != nil {
			return nil, false
		}
		p.log.Error("job not run", "job", r.ID, "client", r.Client, "err", runErr)
		if err := p.failResult(r, "provider failed: "+runErr.Error()); err != nil {
			p.log.Error("seal failure result", "job", r.ID, "err", err)
			return nil, false
		}
	}
	if !r.Stopped {
		r.State = StateSubmitted
		return nil, true
	}
	r.State, r.Credited = StateFailed, true
	key, ch, price := providerKey(r.Client, r.ID), r.Channel, r.Price
	p.log.Info("job failed; not charging", "job", r.ID, "client", r.Client, "cause", r.Error)
	return func(tx *ledger.Tx) error { _, err := tx.CreditJob(ch, key, price); return err }, true
}

// deliverFast delivers r's result (or failure report) as execute does.
func (p *Provider) deliverFast(r *ProviderJob) {
	if !r.Delivered && (r.State == StateSubmitted || r.State == StateFailed && r.Stopped) {
		p.deliver(p.ctx, r)
	}
}
