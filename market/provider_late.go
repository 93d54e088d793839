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

// Channel results and the client's Cancel (docs/rationale/market.md,
// "Why does a provider never credit a channel result it produced?", "Why
// does a client that gives up early cancel a channel job?").

const (
	// errGivenUp is the cause reported for a channel job its client
	// cancelled before it had a result.
	errGivenUp = "cancelled by the client before a result; the job is not charged"
	// errUnacked is the note on a channel job whose result the client
	// never acknowledged before deliver gave up: its voucher is kept (the
	// client may still ask for the result with a Cancel).
	errUnacked = "result not acknowledged by the client; its voucher is kept"
	// cancelCredited is the reply to a Cancel of a channel job that was
	// credited on the channel (now or before).
	cancelCredited = "credited"
	// cancelUnknown is the reply to a Cancel of a job this provider has
	// no record of: it holds no voucher of it and never will (an award is
	// not recorded after its expiry, which is no later than the client's
	// deadline), so a client past its deadline may credit it.
	cancelUnknown = "unknown"
)

// errHasResult: a Cancel came for a job that already has a result.
var errHasResult = errors.New("job already has a result")

// creditedOn reports whether job key was credited on channel ch (the
// ledger marks every CreditJob per channel and job).
func creditedOn(tx *ledger.Tx, ch common.Hash, key string) (bool, error) {
	return tx.Seen("credit/"+ch.Hex(), key)
}

// settleLate turns r, a channel job with a result not yet delivered, into
// a credited failure when its client cancelled it before the result
// existed (the credit is already on the channel: cancelAwarded): in one
// transaction, on the job's current ledger record, the job is failed,
// credited and given a sealed failure report, which r then carries for
// deliver to send instead of the result. A result that is merely late or
// not acknowledged is never credited: the provider cannot tell a client
// that never got it from one that got it and keeps quiet, so it keeps the
// voucher and answers the client's Cancel by delivering the result again
// (cancelAwarded). It reports whether r changed.
func (p *Provider) settleLate(r *ProviderJob) bool {
	if r.PayMode != wire.PayChannel || r.State != StateSubmitted || r.Delivered || r.Credited ||
		r.Channel == (common.Hash{}) || r.Price == nil || r.Price.Sign() <= 0 {
		return false
	}
	key := providerKey(r.Client, r.ID)
	var out *ProviderJob
	err := update(p.d.Ledger, func(tx *ledger.Tx) error {
		out = nil
		cancelled, err := creditedOn(tx, r.Channel, key)
		if err != nil || !cancelled {
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
		if err := p.failResult(cur, errGivenUp); err != nil {
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
		p.log.Error("ledger: credit cancelled channel job", "job", r.ID, "err", err)
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

// keepUnacked ends r, a channel result deliver gave up on (never
// acknowledged within its delivery deadline), paid: the voucher is held
// and the job is not credited (settleLate). The client can still ask for
// the result (cancelAwarded delivers it again). It reports whether r was
// such a job.
func (p *Provider) keepUnacked(r *ProviderJob) bool {
	if r.PayMode != wire.PayChannel || r.State != StateSubmitted || r.Credited || r.ResultCID == "" {
		return false
	}
	key := providerKey(r.Client, r.ID)
	paid := false
	err := update(p.d.Ledger, func(tx *ledger.Tx) error {
		paid = false
		lj, err := tx.Job(key)
		if err != nil {
			return err
		}
		cur, err := providerJobOf(lj)
		if err != nil {
			return err
		}
		if cur.State != StateSubmitted || cur.Credited {
			return nil
		}
		cur.State, cur.Error, cur.Updated = StatePaid, errUnacked, time.Now()
		paid = true
		return putProviderJob(tx, cur)
	})
	if err != nil {
		p.log.Error("ledger: keep unacknowledged channel result", "job", r.ID, "err", err)
		return false
	}
	if paid {
		r.State, r.Error = StatePaid, errUnacked
		p.m.Job("provider", StatePaid)
		p.m.Paid("provider_voucher", r.Price)
		p.log.Warn("channel result never acknowledged; voucher kept", "job", r.ID, "client", r.Client)
	}
	return true
}

// redeliver sends r's result to its client once more, in the background,
// after the client asked about the job (a Cancel at its deadline): an
// honest client that never received it records and pays it; one that
// did answers "duplicate". A delivery under way (deliver's loop) is left
// to its next attempt.
func (p *Provider) redeliver(r *ProviderJob) {
	if p.ctx.Err() != nil || len(r.Result) == 0 {
		return
	}
	release, ok := p.claim("deliver/" + providerKey(r.Client, r.ID))
	if !ok {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer release()
		rctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		_, err := p.d.Net.Request(rctx, r.Client, r.Result)
		if err == nil || errors.Is(err, ErrRefused) || errors.Is(err, ErrDuplicate) {
			p.queueDelivered(r, true)
			return
		}
		p.log.Info("result delivered again on the client's ask: not answered", "job", r.ID, "err", err)
	}()
}

// cancelAwarded answers a client's Cancel of a channel job. A client
// sends one when it gives up early (giveUp) and when the job's deadline
// passed with no result (askSilent: creditSilent, Settle):
//   - an awarded job with no result yet: its price is credited on the
//     channel (only the channel and its per-job mark are written, so
//     execute's own write of the job cannot undo it), the run is stopped
//     (stopRun) and the reply says "credited"; the run ends as a credited
//     failure (settleLate in deliver, or execute's own failure path, whose
//     credit is then a no-op);
//   - a job credited before (a failure report, an interrupted job
//     credited at recovery, an earlier cancel): "credited";
//   - a job with a result: refused (errHasResult), never credited, and
//     the result is delivered again (redeliver): the client records and
//     pays it, or has it already;
//   - a job this provider never recorded: "unknown" (it holds no voucher
//     for it; see cancelUnknown).
//
// An escrow job is left alone: escrow is refunded by the deal's deadline.
func (p *Provider) cancelAwarded(ctx context.Context, c *wire.Cancel) ([]byte, error) {
	key := providerKey(c.Sender, c.JobID)
	var reply []byte
	var has *ProviderJob
	err := update(p.d.Ledger, func(tx *ledger.Tx) error {
		reply, has = nil, nil
		lj, err := tx.Job(key)
		if errors.Is(err, ledger.ErrNotFound) {
			reply = []byte(cancelUnknown)
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
			if r.ResultCID != "" {
				has = r
			}
			return fmt.Errorf("%w: %w (%s)", ErrRefused, errHasResult, lj.State)
		}
		if _, err := tx.CreditJob(r.Channel, key, r.Price); err != nil {
			return err
		}
		reply = []byte(cancelCredited)
		return nil
	})
	if has != nil {
		p.redeliver(has)
	}
	if err != nil {
		return nil, err
	}
	if string(reply) == cancelCredited {
		p.stopRun(key)
		p.log.Info("client cancelled channel job; credited", "job", c.JobID, "client", c.Sender)
	}
	return reply, nil
}
