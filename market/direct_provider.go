package market

import (
	"context"
	"fmt"

	"github.com/cloudless-network/cloudless/market/wire"
)

// admitDirect admits a direct award (wire.Award.Request: no bid came
// before it) as bid would admit its request, and takes a slot for it. The
// job key is claimed until the caller releases it, so a replayed or
// concurrent copy of the award is refused while the first is checked and
// run (the ledger refuses it once the job is written). The returned
// pendingBid carries the price this provider asks now; handleAward
// refuses an award below it (ErrUnpaid), and the client then asks for
// bids.
func (p *Provider) admitDirect(ctx context.Context, key string, a *wire.Award) (release func(), b *pendingBid, err error) {
	req := a.Request // wire checked it is this channel job's, of this client
	release, ok := p.claim("award/" + key)
	if !ok {
		p.m.Award("duplicate")
		return nil, nil, fmt.Errorf("%w: award for job %s is being accepted", ErrDuplicate, a.JobID)
	}
	price, err := p.admit(ctx, req)
	if err != nil {
		release()
		p.m.Award("direct_refused")
		return nil, nil, fmt.Errorf("direct award: %w", err)
	}
	c := p.d.Runner.Capacity()
	p.mu.Lock()
	free := p.freeSlots(c) > 0
	if free {
		p.reserved++
	}
	p.mu.Unlock()
	if !free {
		release()
		p.m.Award("direct_refused")
		return nil, nil, fmt.Errorf("%w: direct award: no free slot", ErrRefused)
	}
	return release, &pendingBid{req: req, price: price, expiry: a.Expiry.Time()}, nil
}
