package market_test

import (
	"context"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// vanishingRunner is a provider that goes away mid-run: on its first job
// it closes its libp2p host and never returns a result. started (if not
// nil) is closed when that job starts.
type vanishingRunner struct {
	market.Runner
	once    sync.Once
	close   func()
	started chan struct{}
}

func (r *vanishingRunner) Run(ctx context.Context, s executor.Spec) (*executor.Result, error) {
	r.once.Do(func() {
		if r.started != nil {
			close(r.started)
		}
		go r.close()
	})
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestRetryReawards: the cheapest provider takes the award and its host
// closes mid-run. With Retry 1 the client gives up on it after
// ResultTimeout, re-awards the job to the other provider and ends paid;
// the vanished provider is not paid and its escrow comes back after the
// deal deadline. The other provider starts only once the first runs the
// job: in round 0 the vanishing one is the only bidder (with both
// bidding, its bid could miss the bid grace behind the other's, and the
// job went to the good one first).
func TestRetryReawards(t *testing.T) {
	for _, mode := range []wire.PayMode{wire.PayEscrow, wire.PayChannel} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWorld(t, 3)
			gone, good, cl := w.nodes[0], w.nodes[1], w.nodes[2]
			started := make(chan struct{})
			gone.runner = &vanishingRunner{Runner: gone.exec, close: func() { gone.h.Close() }, started: started}
			cheap := wire.PriceSchedule{PerJob: big.NewInt(500_000_000_000), Tiers: testPrice.Tiers}
			gone.startProvider(market.ProviderConfig{Price: cheap})
			cl.startClient(market.ClientConfig{ResultMargin: 30 * time.Second})
			cl.waitOffers(1)
			before := w.credits(cl.addr())
			spec := jobSpec(cl.publishModule(), "retry")
			wait := 3 * time.Second
			if raceOn {
				wait = 20 * time.Second
			}
			id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: mode, Retry: 1, ResultTimeout: wait,
				Providers: []peer.ID{gone.id(), good.id()}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-started:
			case <-w.ctx.Done():
				t.Fatal("the vanishing provider never ran the job")
			}
			// Round 1 starts after ResultTimeout: the good provider is
			// up by then, and asked directly (RunOptions.Providers).
			good.startProvider(market.ProviderConfig{})
			out, err := cl.client.Wait(w.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if string(out.Stdout) != "args: retry\n" {
				t.Errorf("stdout %q", out.Stdout)
			}
			j, _ := cl.client.WaitSettled(w.ctx, id) // an escrow accept follows Wait
			if j.State != market.StatePaid || j.Attempts != 1 || len(j.Assigned) != 2 {
				t.Fatalf("job %s attempts %d assigned %+v: want paid after one retry on two providers", j.State, j.Attempts, j.Assigned)
			}
			if j.Assigned[0].Provider != gone.id() || j.Assigned[1].Provider != good.id() || j.Assigned[1].State != market.StatePaid {
				t.Fatalf("assignments %+v: want the vanished one first, the good one paid", j.Assigned)
			}
			if j.Paid.Cmp(j.Assigned[1].Price) != 0 {
				t.Errorf("paid %s, want only the good provider's %s", j.Paid, j.Assigned[1].Price)
			}
			if cl.client.Reputation(gone.id()) >= 0.5 {
				t.Errorf("vanished provider's reputation did not drop")
			}
			if mode != wire.PayEscrow {
				return
			}
			w.adjustTime(2 * time.Minute) // past the vanished provider's deal deadline
			deadline := time.Now().Add(20 * time.Second)
			for {
				j, _ = cl.client.Job(id)
				if j.Assigned[0].State == market.StateRefunded {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("vanished provider's assignment %s, want refunded", j.Assigned[0].State)
				}
				time.Sleep(20 * time.Millisecond) // polling the chain, with a deadline
			}
			if j.State != market.StatePaid {
				t.Errorf("job %s after the refund, want still paid", j.State)
			}
			// The client spent exactly the good provider's price.
			if d := new(big.Int).Sub(before, w.credits(cl.addr())); d.Sign() > 0 && d.Cmp(j.Assigned[1].Price) > 0 {
				t.Errorf("client's credits fell by %s", d)
			}
		})
	}
}
