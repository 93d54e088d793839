package market

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market/wire"
)

// SettleDisputes follows the provider's disputed escrow deals to the end
// the chain gives them, before Settle's loop can take a closed deal with
// our result on chain for "paid":
//
//   - disputed on chain: the job and the deal become disputed in the
//     ledger (Settle no longer lists the job), and once the mediation
//     timeout passed the provider expires the dispute itself, which
//     unlocks its collateral;
//   - closed by DealResolved for us: paid (the earned payment is
//     written);
//   - closed by DealResolved for the client, or by DisputeExpired:
//     refunded, not paid; the deal record says whether the collateral was
//     forfeited (resolved) or unlocked (expired).
//
// Settle calls it first on every tick; tests call it directly. It needs
// a Settlement that is also a DisputeChain (*contracts.Client).
func (p *Provider) SettleDisputes(ctx context.Context) {
	dc, ok := p.d.Settle.(DisputeChain)
	if !ok {
		return
	}
	now, err := p.chainNow(ctx)
	if err != nil {
		return
	}
	ljs, err := p.d.Ledger.Jobs(ctx, ledger.JobFilter{Role: ledger.RoleProvider, States: []ledger.JobState{ledger.JobCommitted, ledger.JobDisputed}})
	if err != nil {
		p.log.Warn("settle disputes", "err", err)
		return
	}
	for _, lj := range ljs {
		r, err := providerJobOf(lj)
		if err != nil || r.PayMode != wire.PayEscrow || r.Deal == nil {
			continue
		}
		key := providerKey(r.Client, r.ID)
		st, err := p.d.Settle.Deal(ctx, r.DealID)
		if err != nil {
			continue
		}
		switch st.Status {
		case contracts.DealDisputed:
			if lj.State != ledger.JobDisputed {
				err := update(p.d.Ledger, func(tx *ledger.Tx) error {
					if _, err := tx.AdvanceDeal(r.DealID, ledger.DealDisputed, func(d *ledger.Deal) error {
						d.Note = "disputed by the client"
						return nil
					}); err != nil {
						return err
					}
					_, err := tx.Advance(key, ledger.JobDisputed, func(j *ledger.Job) error {
						j.Note = "the client disputed our result; the mediator decides"
						return nil
					})
					return err
				})
				if err != nil {
					p.log.Warn("ledger", "job", r.ID, "err", err)
					continue
				}
				p.log.Warn("result disputed by the client", "job", r.ID, "deal", r.DealID)
			}
			p.bringCase(ctx, r)
			if sent, err := expireDispute(ctx, dc, *r.Deal, r.DealID, now); err != nil {
				p.log.Info("expire dispute", "job", r.ID, "err", err)
			} else if sent {
				p.log.Info("dispute expired: the mediator stayed silent", "job", r.ID)
				p.finishDispute(ctx, dc, r)
			}
		case contracts.DealClosed:
			forgetCase(p.d.Net.ID(), r.DealID)
			p.finishDispute(ctx, dc, r)
		}
	}
}

// bringCase hands r's disputed deal to its mediator (one of
// ProviderConfig.MediatorPeers): a client that disputed and never brings
// the case itself would otherwise get price and fee back by expiry.
func (p *Provider) bringCase(ctx context.Context, r *ProviderJob) {
	if r.Deal.Mediator == (common.Address{}) {
		return
	}
	mp, ok := mediatorPeerFor(r.Deal.Mediator, p.cfg.MediatorPeers...)
	if !ok {
		return
	}
	res, err := caseSender{net: p.d.Net, seal: p.d.Seal, log: p.log}.bring(ctx, mp, r.Deal, r.DealID, r.ID, &r.Spec)
	logCase(p.log, r.ID, r.DealID, res, err)
}

// finishDispute records how r's closed deal ended, when it ended a
// dispute; accepted and claimed deals are left to Settle.
func (p *Provider) finishDispute(ctx context.Context, dc DisputeChain, r *ProviderJob) {
	c, ok, err := closingOf(ctx, dc, p.cfg.FromBlock, r.DealID)
	if err != nil || !ok {
		return
	}
	end, ok := endOf(c, r.Deal)
	if !ok || !end.disputed {
		return // accepted, claimed or refunded without a dispute: Settle's
	}
	r.Updated = time.Now()
	if end.forProvider {
		r.State, r.Error = StatePaid, ""
	} else {
		r.State, r.Error = StateRefunded, end.note
	}
	err = update(p.d.Ledger, func(tx *ledger.Tx) error {
		if err := closeDisputedDeal(tx, r.DealID, end, c.Log.TxHash); err != nil {
			return err
		}
		return putProviderJob(tx, r)
	})
	if err != nil {
		p.log.Warn("ledger", "job", r.ID, "err", err)
		return
	}
	p.m.Job("provider", r.State)
	if end.forProvider {
		p.m.Paid("provider_escrow", r.Price)
		p.log.Info("dispute won: paid", "job", r.ID, "deal", r.DealID)
		return
	}
	p.log.Warn("dispute lost: not paid", "job", r.ID, "deal", r.DealID, "why", end.note)
}
