package market

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// errSilentCredited is the assignment error of a channel provider that
// stayed silent past the job's deadline.
const errSilentCredited = "no result before the deadline; its price is credited back on the channel"

// creditSilent settles the channel assignments of j from first on that
// are still waiting for a result once the job's full deadline (its
// timeout plus ResultMargin after awardedAt) has passed. Each provider is
// asked first (askSilent, channel_ask.go): one that confirms it has no
// result ("credited", or "unknown": no record of the award) is failed and
// its price credited back on its channel, in the same transaction as the
// job; one that has a result delivers it again (recorded as a late
// result, paid by Settle); one that does not answer stays open, and
// Settle asks again. A provider never credits a result it produced, so
// crediting without its word could make the client's next voucher fall
// short of what the provider counts (and be refused), or give a hostile
// client its output for free. Assignments given up earlier (a shorter
// RunOptions.ResultTimeout) were cancelled by giveUp, or stay open, and
// so do those of a cancelled context: Settle pays their result or credits
// them on the provider's word (settleChannel).
func (c *Client) creditSilent(ctx context.Context, j *Job, first int, awardedAt time.Time) {
	if j.PayMode != wire.PayChannel || ctx.Err() != nil {
		return
	}
	if time.Now().Before(awardedAt.Add(j.Spec.Resources.Timeout.D() + c.cfg.ResultMargin)) {
		return
	}
	var idx []int
	var who []peer.ID
	for i := first; i < len(j.Assigned); i++ {
		if silentChannel(j, &j.Assigned[i]) {
			idx, who = append(idx, i), append(who, j.Assigned[i].Provider)
		}
	}
	if len(idx) == 0 {
		return
	}
	answers := c.askSilent(ctx, j.ID, who)
	var credits []func(tx *ledger.Tx) error
	open := 0
	for n, i := range idx {
		if answers[n] != askCredited {
			open++
			continue
		}
		if f := creditSilentOne(j, &j.Assigned[i]); f != nil {
			credits = append(credits, f)
		}
	}
	if open > 0 {
		c.emit(j.ID, j.State, "%d silent provider(s) did not confirm a credit: the job stays open until they answer", open)
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

// silentChannel reports whether a is a channel assignment of j with a
// voucher and no answer: one creditSilentOne would credit.
func silentChannel(j *Job, a *Assignment) bool {
	return j.PayMode == wire.PayChannel && a.State == StateAwarded && a.ResultCID == "" && !a.Credited &&
		a.Channel != (common.Hash{}) && a.Price != nil && a.Price.Sign() > 0
}

// creditSilentOne marks a, a channel assignment with no answer, failed and
// credited, and returns the ledger credit to write with it (nil when a is
// not such an assignment).
func creditSilentOne(j *Job, a *Assignment) func(tx *ledger.Tx) error {
	if !silentChannel(j, a) {
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
