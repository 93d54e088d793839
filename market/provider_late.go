package market

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// Channel results that come too late, and channel jobs their client gave
// up on (docs/rationale/market.md, "Why does a late channel result become
// a credit?").

const (
	// errLate is the cause a provider reports for a channel result not
	// delivered within the job's timeout plus ResultMargin of its award.
	errLate = "result not delivered before the deadline; the job is not charged"
	// errGivenUp is the cause reported for a channel job its client
	// cancelled before it had a result.
	errGivenUp = "cancelled by the client before a result; the job is not charged"
	// cancelCredited is the reply to a Cancel of a channel job that was
	// credited on the channel (now or before).
	cancelCredited = "credited"
)

// errHasResult: a Cancel came for a job that already has a result.
var errHasResult = errors.New("job already has a result")

// lateCutoff is when a channel job's result must be delivered by: its
// timeout plus ResultMargin after the award was journaled. A client
// waits at least that long (its own ResultMargin, 60 s by default, is
// larger than the provider's 15 s), so a result delivered in time
// reaches a client that still counts it.
func (p *Provider) lateCutoff(r *ProviderJob) time.Time {
	return r.Created.Add(r.Spec.Resources.Timeout.D() + p.cfg.ResultMargin)
}

// creditedOn reports whether job key was credited on channel ch (the
// ledger marks every CreditJob per channel and job).
func creditedOn(tx *ledger.Tx, ch common.Hash, key string) (bool, error) {
	return tx.Seen("credit/"+ch.Hex(), key)
}

// settleLate turns r, a channel job with a result not yet delivered, into
// a credited failure when its client cancelled it (the credit is already
// on the channel: cancelAwarded) or when it is past lateCutoff: in one
// transaction, on the job's current ledger record, the job is failed,
// credited and given a sealed failure report, which r then carries for
// deliver to send instead of the result. The client credits the job on
// that report, or has credited it already (silent past its deadline, or
// on the cancel), so both ledgers agree on the channel's Charged. It
// reports whether r changed.
func (p *Provider) settleLate(r *ProviderJob) bool {
	if r.PayMode != wire.PayChannel || r.State != StateSubmitted || r.Delivered || r.Credited ||
		r.Channel == (common.Hash{}) || r.Price == nil || r.Price.Sign() <= 0 {
		return false
	}
	key := providerKey(r.Client, r.ID)
	late := time.Now().After(p.lateCutoff(r))
	var out *ProviderJob
	err := update(p.d.Ledger, func(tx *ledger.Tx) error {
		out = nil
		cancelled, err := creditedOn(tx, r.Channel, key)
		if err != nil || !late && !cancelled {
			return err
		}
		lj, err := tx.Job(key)
		if err != nil {
			return err
		}
		if lj.State != ledger.JobResultStored {
			return nil // delivered (or settled) meanwhile
		}
		cur, err := providerJobOf(lj)
		if err != nil {
			return err
		}
		cause := errLate
		if cancelled {
			cause = errGivenUp
		}
		if err := p.failResult(cur, cause); err != nil {
			return err
		}
		cur.State, cur.Credited, cur.Updated = StateFailed, true, time.Now()
		if _, err := tx.CreditJob(cur.Channel, key, cur.Price); err != nil {
			return err
		}
		if err := putProviderJob(tx, cur); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if err != nil {
		p.log.Error("ledger: credit late channel job", "job", r.ID, "err", err)
		return false
	}
	if out == nil {
		return false
	}
	*r = *out
	p.m.Job("provider", StateFailed)
	p.log.Info("channel job credited; not charging", "job", r.ID, "client", r.Client, "cause", r.Error)
	return true
}

// cancelAwarded answers a client's Cancel of an awarded channel job with
// no result yet: its price is credited on the channel (only the channel
// and its per-job mark are written, so execute's own write of the job
// cannot undo it) and the reply says "credited"; the job still running
// ends as a credited failure when its result comes (settleLate in
// deliver, or execute's own failure path, whose credit is then a no-op).
// A job that already has a result is not cancelled (errHasResult: the
// client waits for it and pays). An escrow job, or one not awarded here,
// is left alone: escrow is refunded by the deal's deadline.
func (p *Provider) cancelAwarded(ctx context.Context, c *wire.Cancel) ([]byte, error) {
	key := providerKey(c.Sender, c.JobID)
	var reply []byte
	err := update(p.d.Ledger, func(tx *ledger.Tx) error {
		reply = nil
		lj, err := tx.Job(key)
		if errors.Is(err, ledger.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		r, err := providerJobOf(lj)
		if err != nil {
			return err
		}
		if r.PayMode != wire.PayChannel || r.Channel == (common.Hash{}) || r.Price == nil || r.Price.Sign() <= 0 {
			return nil
		}
		if done, err := creditedOn(tx, r.Channel, key); err != nil || done {
			reply = []byte(cancelCredited)
			return err
		}
		switch lj.State {
		case ledger.JobPaymentVerified, ledger.JobRunning:
		default:
			return fmt.Errorf("%w: %w (%s)", ErrRefused, errHasResult, lj.State)
		}
		if _, err := tx.CreditJob(r.Channel, key, r.Price); err != nil {
			return err
		}
		reply = []byte(cancelCredited)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reply != nil {
		p.log.Info("client cancelled channel job; credited", "job", c.JobID, "client", c.Sender)
	}
	return reply, nil
}
