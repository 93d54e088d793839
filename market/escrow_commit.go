package market

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cloudless-network/cloudless/ledger"
)

// commitWhileDelivering is the escrow provider's last step for a job it
// has just run and stored (the result is persisted, state done): it sends
// the result commitment (submitResult) and delivers the signed result at
// the same time, instead of waiting for the commitment to be mined
// first (issue 9: that wait was one block on the job's critical path).
//
// Nothing the client can do with the early result costs the provider:
// the contract lets the client accept or dispute only a committed
// result, so it accepts once the commitment lands (escrow_accept.go). If
// the commitment fails, the job stays done and the settle loop retries
// it with backoff until the deal deadline, as before; what the provider
// risks is a result delivered but never paid, should the commitment
// never land before the deadline (then the client's refund applies) —
// the same provider-side risk as a crash between commit and claim. A
// job found done at recovery is committed first and delivered after
// (execute's old order): time has passed and the deal may have closed.
func (p *Provider) commitWhileDelivering(ctx context.Context, r *ProviderJob) {
	// commit moves its own copy (state, claim time, error); deliver
	// reads r. Their ledger writes merge (saveCommitted, markDelivered).
	rc := *r
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.commit(ctx, &rc); err != nil && !errors.Is(err, errBusy) && ctx.Err() == nil {
			p.log.Warn("submit result; retrying from the settle loop", "job", r.ID, "client", r.Client, "err", err)
		}
	})
	if !r.Delivered {
		p.deliver(ctx, r)
	}
	wg.Wait()
}

// saveCommitted writes r as commit moved it, keeping a delivery that
// was recorded meanwhile (markDelivered writes the ledger's copy, which r
// may predate: the result is delivered while the commitment is mined).
func (p *Provider) saveCommitted(r *ProviderJob) error {
	r.Updated = time.Now()
	return update(p.d.Ledger, func(tx *ledger.Tx) error {
		if lj, err := tx.Job(providerKey(r.Client, r.ID)); err == nil {
			if cur, err := providerJobOf(lj); err == nil && cur.Delivered {
				r.Delivered = true
			}
		}
		return putProviderJob(tx, r)
	})
}
