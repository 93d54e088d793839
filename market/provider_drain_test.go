package market_test

import (
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestStoppingProviderNeitherOffersNorBids: once its host no longer
// serves the market protocol (a draining node removed it), a provider
// with free slots publishes no offer and does not bid on a gossiped
// request: no award could reach it, and a client that chose it would
// wait the job's whole deadline. The client gets no bid, at once.
func TestStoppingProviderNeitherOffersNorBids(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{BidWait: 500 * time.Millisecond})
	cl.waitOffers(1)
	if prov.provider.Offer() == nil {
		t.Fatal("no offer from a provider with free slots")
	}
	prov.h.RemoveStreamHandler(protocol.ID(wire.MarketProtocol))
	if o := prov.provider.Offer(); o != nil {
		t.Errorf("offer %+v from a provider that serves no market protocol", o)
	}
	id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), "late"), market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.client.Wait(w.ctx, id)
	if !errors.Is(err, market.ErrNoBids) {
		t.Fatalf("err %v, want no bids", err)
	}
	if j, _ := cl.client.Job(id); len(j.Assigned) != 0 {
		t.Errorf("job assigned %+v, want nobody", j.Assigned)
	}
}
