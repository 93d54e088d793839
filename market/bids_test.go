package market_test

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestBidsDoNotWaitForSilentProvider: a provider asked directly that never
// answers no longer holds the job until the bid deadline; the client goes
// on once it has k bids and a short grace has passed.
func TestBidsDoNotWaitForSilentProvider(t *testing.T) {
	w := newWorld(t, 3)
	prov, silent, cl := w.nodes[0], w.nodes[1], w.nodes[2]
	prov.startProvider(market.ProviderConfig{})
	silent.startNet()
	asked := make(chan struct{}, 1)
	silent.net.Handle(wire.TypeJobRequest, func(ctx context.Context, _ peer.ID, _ wire.Message) ([]byte, error) {
		asked <- struct{}{}
		<-ctx.Done() // never bids
		return nil, ctx.Err()
	})
	const bidWait = 40 * time.Second
	cl.startClient(market.ClientConfig{BidWait: bidWait})
	spec := jobSpec(cl.publishModule(), "silent")
	t0 := time.Now()
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{silent.id(), prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	select {
	case <-asked:
	default:
		t.Fatal("the silent provider was never asked")
	}
	if len(out.Job.Assigned) != 1 || out.Job.Assigned[0].Provider != prov.id() {
		t.Fatalf("assigned %+v, want the provider that bid", out.Job.Assigned)
	}
	// The whole job, module fetch and compile included, takes well under
	// a second on a quiet machine; waiting for the silent one took bidWait.
	if took >= bidWait/2 {
		t.Fatalf("job took %s: the client waited for the silent provider (bid wait %s)", took, bidWait)
	}
}
