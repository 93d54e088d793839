package market_test

import (
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestRefusedChannelAwardCredited: a provider refuses the award (its bid
// expired while the client's channel-opening transaction waited for a
// block), having journaled nothing. The voucher the client signed for it
// is credited back at once, so the client's channel is charged nothing
// and the next voucher reuses the amount.
func TestRefusedChannelAwardCredited(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	const ttl = 2 * time.Second
	prov.startProvider(market.ProviderConfig{BidTTL: ttl})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	ctx := w.ctx

	// No blocks: the first channel job's openChannel waits after the bid.
	w.chain.SetAutomine(false)
	start := time.Now()
	id, err := cl.client.Submit(ctx, jobSpec(cl.publishModule(), "refused"), market.RunOptions{PayMode: wire.PayChannel})
	if err != nil {
		t.Fatal(err)
	}
	// The bid's expiry is on the provider's real clock: wait it out.
	<-time.After(time.Until(start.Add(ttl + 500*time.Millisecond)))
	w.chain.SetAutomine(true)
	w.chain.Commit()
	if _, err := cl.client.Wait(ctx, id); err == nil {
		t.Fatal("the job succeeded although its award was refused")
	}
	j, _ := cl.client.Job(id)
	if len(j.Assigned) != 1 || j.Assigned[0].State != market.StateFailed || !j.Assigned[0].Credited {
		t.Fatalf("assignments %+v: want one failed and credited", j.Assigned)
	}
	cs, err := cl.journal.Channels(ctx, ledger.RoleClient)
	if err != nil || len(cs) != 1 {
		t.Fatalf("client channels %+v (%v), want one", cs, err)
	}
	if cs[0].Charged().Sign() != 0 {
		t.Errorf("client channel charged %s after a refused award, want 0", cs[0].Charged())
	}
	if _, err := prov.journal.Job(ctx, j.Assigned[0].Provider.String()+"/"+id.String()); err == nil {
		t.Errorf("the provider journaled a job whose award it refused")
	}
}
