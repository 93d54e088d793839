package market

import (
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// errInterrupted is the cause a restarted provider reports for a channel
// job its crash interrupted too late to run again.
const errInterrupted = "provider restarted mid-run; the job is not charged"

// creditInterrupted (recovery) settles the channel jobs of todo that a
// crash stopped between the award and the result, when a run started now
// could no longer end within the job's timeout plus ResultMargin of its
// award: such a job is failed and its price credited on the channel (the
// same transaction), and a failure report is sealed for execute to
// deliver. The client, which fails and credits a channel provider silent
// past its deadline, then agrees with this ledger on the channel's
// Charged, and the client's next voucher is accepted. A job interrupted
// early is left as it is: execute runs it again and delivers the result
// in time. Jobs are updated in place; one that cannot be written stays
// as it was (execute re-runs it).
func (p *Provider) creditInterrupted(todo []*ProviderJob) {
	now := time.Now()
	for _, r := range todo {
		if r.PayMode != wire.PayChannel || (r.State != StateAwarded && r.State != StateRunning) ||
			r.Channel == (common.Hash{}) || r.Price == nil || r.Price.Sign() <= 0 {
			continue
		}
		if !now.After(r.Created.Add(p.cfg.ResultMargin)) {
			continue // a full run still ends within timeout + margin of the award
		}
		x := *r
		if err := p.failResult(&x, errInterrupted); err != nil {
			p.log.Error("seal failure result", "job", r.ID, "err", err)
			continue
		}
		x.State, x.Credited = StateFailed, true
		key := providerKey(x.Client, x.ID)
		ch, price := x.Channel, x.Price
		if err := p.saveWith(&x, func(tx *ledger.Tx) error { _, err := tx.CreditJob(ch, key, price); return err }); err != nil {
			p.log.Error("ledger", "job", r.ID, "err", err)
			continue
		}
		*r = x
		p.m.Job("provider", StateFailed)
		p.log.Info("interrupted channel job credited; not charging", "job", r.ID, "client", r.Client, "price", price)
	}
}
