package market

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// errSilentCredited is the assignment error of a channel provider that
// stayed silent past the job's deadline.
const errSilentCredited = "no result before the deadline; its price is credited back on the channel"

// creditSilent fails the channel assignments of j from first on that are
// still waiting for a result once the job's full deadline (its timeout
// plus ResultMargin after awardedAt) has passed, and credits their price
// back on their channels in the same transaction as the job. A provider
// killed mid-run thus costs the client nothing: its voucher stays signed,
// but the next voucher to that provider reuses the amount, and the
// provider, when it comes back, credits the interrupted job too
// (Provider.creditInterrupted), or a result it finishes too late
// (Provider.settleLate). Assignments given up earlier (a shorter
// RunOptions.ResultTimeout) were cancelled by giveUp, or stay open, and
// so do those of a cancelled context: the provider may still deliver
// within the deadline and count itself paid; an open channel voucher
// keeps the job unfinished in the ledger, and Settle pays its result or
// credits its silence (settleChannel).
func (c *Client) creditSilent(ctx context.Context, j *Job, first int, awardedAt time.Time) {
	if j.PayMode != wire.PayChannel || ctx.Err() != nil {
		return
	}
	if time.Now().Before(awardedAt.Add(j.Spec.Resources.Timeout.D() + c.cfg.ResultMargin)) {
		return
	}
	var credits []func(tx *ledger.Tx) error
	for i := first; i < len(j.Assigned); i++ {
		if f := creditSilentOne(j, &j.Assigned[i]); f != nil {
			credits = append(credits, f)
		}
	}
	if len(credits) == 0 {
		return
	}
	err := c.saveWith(j, func(tx *ledger.Tx) error {
		for _, f := range credits {
			if err := f(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.log.Warn("credit silent channel provider", "job", j.ID, "err", err)
		return
	}
	c.emit(j.ID, j.State, "%d silent provider(s) not charged: price credited back on the channel", len(credits))
}

// creditSilentOne marks a, a channel assignment with no answer, failed and
// credited, and returns the ledger credit to write with it (nil when a is
// not such an assignment).
func creditSilentOne(j *Job, a *Assignment) func(tx *ledger.Tx) error {
	if j.PayMode != wire.PayChannel || a.State != StateAwarded || a.ResultCID != "" || a.Credited ||
		a.Channel == (common.Hash{}) || a.Price == nil || a.Price.Sign() <= 0 {
		return nil
	}
	a.State, a.Credited, a.Error = StateFailed, true, errSilentCredited
	ch, id, price := a.Channel, j.ID.String(), a.Price
	return func(tx *ledger.Tx) error { _, err := tx.CreditJob(ch, id, price); return err }
}

// refusedAward fails assignment i of j, whose provider refused the award
// with cause, and credits a channel voucher it was sent in the same
// transaction: the provider journals nothing for an award it refuses, so
// both sides now agree on the channel's Charged again.
func (c *Client) refusedAward(j *Job, i int, cause error) error {
	a := &j.Assigned[i]
	a.State, a.Error = StateFailed, "award: "+cause.Error()
	if j.PayMode != wire.PayChannel || a.Channel == (common.Hash{}) || a.Price == nil || a.Price.Sign() <= 0 || a.Credited {
		return nil
	}
	a.Credited = true
	ch, id, price := a.Channel, j.ID.String(), a.Price
	return c.saveWith(j, func(tx *ledger.Tx) error { _, err := tx.CreditJob(ch, id, price); return err })
}
