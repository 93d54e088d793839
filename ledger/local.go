package ledger

import (
	"context"
	"fmt"
)

// PayLocal is Job.PayMode of a run on the node's own executor (a
// serverless function with local: true): nothing is paid, no provider is
// involved, and the job is recorded only once it has ended.
const PayLocal = "local"

// RecordLocalJobs stores runs on the node's own executor as finished
// client jobs, so the job list shows every invocation whether it went to
// the market or not. All of jobs are written in one transaction (one
// fsync, shared with concurrent writes); nothing is written if one is
// refused.
//
// Each job must be RoleClient with PayMode PayLocal, in JobAccepted (it
// ran to an exit code) or JobFailed (the sandbox stopped it), with a nil or
// zero Price and MaxPrice and no deal, channel, voucher or providers: it
// moves no money, so it does not walk the market's states. Its history is
// two events, "" -> requested and requested -> its state, so it reads like
// any other job's. Created is kept when set (when the run started);
// Updated is the ledger's clock. Recording the same job again is a no-op.
//
// # Errors
//
// ErrInvalid (a job breaking the rules above), ErrExists (another job
// with that ID), ErrClosed.
func (l *Ledger) RecordLocalJobs(ctx context.Context, jobs ...Job) error {
	if len(jobs) == 0 {
		return nil
	}
	return l.update(ctx, func(tx *Tx) error {
		for _, j := range jobs {
			if _, err := tx.RecordLocalJob(j); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecordLocalJob is RecordLocalJobs for one job, in tx.
func (tx *Tx) RecordLocalJob(j Job) (Job, error) {
	if err := checkLocalJob(j); err != nil {
		return Job{}, err
	}
	created := j.Created
	if created.IsZero() || created.After(tx.now) {
		created = tx.now
	}
	j, fresh, err := tx.insertJob(j, created)
	if err != nil || !fresh {
		return j, err
	}
	if err := tx.appendEvent("job", j.ID, j.ID, "", string(JobRequested), "local run"); err != nil {
		return Job{}, err
	}
	return j, tx.appendEvent("job", j.ID, j.ID, string(JobRequested), string(j.State), j.Note)
}

func checkLocalJob(j Job) error {
	if err := checkID(j.ID); err != nil {
		return err
	}
	bad := func(what string) error {
		return fmt.Errorf("%w: local job %q: %s", ErrInvalid, truncate(j.ID), what)
	}
	switch {
	case j.Role != RoleClient:
		return bad(fmt.Sprintf("role %q, want %q", j.Role, RoleClient))
	case j.PayMode != PayLocal:
		return bad(fmt.Sprintf("pay mode %q, want %q", j.PayMode, PayLocal))
	case j.State != JobAccepted && j.State != JobFailed:
		return bad(fmt.Sprintf("state %q, want %s or %s", j.State, JobAccepted, JobFailed))
	case j.Price != nil && j.Price.Sign() != 0, j.MaxPrice != nil && j.MaxPrice.Sign() != 0, j.Voucher != nil:
		return bad("a local run is not paid")
	case j.DealID != (Job{}).DealID, j.ChannelID != (Job{}).ChannelID, len(j.Providers) > 0:
		return bad("a local run has no deal, channel or providers")
	}
	return nil
}
