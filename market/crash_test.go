package market_test

import (
	"context"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestProviderStoppedAtRandomPoints stops the provider at a random moment
// of each job (before the award, while verifying, running, committing,
// delivering) and restarts it on the same journal. Every job must end paid
// or refunded, the provider's journal must agree with the chain, and the
// provider must have earned exactly the price of the jobs that ended paid.
// (The multi-process SIGKILL version is issue 8's; this one stops the
// provider's goroutines with its context, which leaves the journal in the
// same states a kill does, since every transition is journaled before it
// is acted on.)
func TestProviderStoppedAtRandomPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("several jobs with restarts")
	}
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startNet()
	cfg := market.ProviderConfig{Price: testPrice, OfferInterval: time.Second, TickInterval: 50 * time.Millisecond,
		RedeemAmount: big.NewInt(1), WorkDir: t.TempDir(), ResultMargin: time.Second}
	deps := market.ProviderDeps{Net: prov.net, Seal: prov.seal, Content: prov.content, Runner: prov.exec,
		Settle: prov.settle, Ledger: prov.journal, Book: prov.book, Logger: quietLogger()}
	start := func() func() {
		p, err := market.NewProvider(deps, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(ctx) }()
		return func() { cancel(); p.Close(); <-done }
	}
	stop := start()
	cl.startClient(market.ClientConfig{ResultMargin: 4 * time.Second, ChallengeWindow: 2 * time.Second})
	cl.waitOffers(1)
	before := w.credits(prov.addr())
	spec := jobSpec(cl.publishModule(), "crash")
	spec.Resources.Timeout = wire.Duration(2 * time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []wire.JobID
	for i := 0; i < 6; i++ {
		id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow, Providers: []peer.ID{prov.id()}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond) // a random point of the job's life
		stop()
		stop = start()
		if _, err := cl.client.Wait(w.ctx, id); err != nil { // paid, or failed (refund below)
			t.Logf("job %d: %v", i, err)
		}
	}
	// Past every deadline and challenge window: refunds and claims happen.
	w.adjustTime(time.Minute)
	paid := new(big.Int)
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			j, err := cl.client.Job(id)
			if err != nil {
				t.Fatal(err)
			}
			if j.State == market.StatePaid || j.State == market.StateRefunded {
				if j.State == market.StatePaid {
					paid.Add(paid, j.Paid)
				}
				break
			}
			if j.State == market.StateFailed && len(j.Assigned) == 0 {
				break // never awarded (the provider was down for the bids): nothing paid
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s ended %s (%+v)", id, j.State, j.Assigned)
			}
			time.Sleep(50 * time.Millisecond) // polling the chain, with a deadline
		}
	}
	stop()
	// The provider's journal agrees with the chain.
	pjobs, err := (func() ([]market.ProviderJob, error) {
		p, err := market.NewProvider(deps, cfg)
		if err != nil {
			return nil, err
		}
		return p.Jobs()
	})()
	if err != nil {
		t.Fatal(err)
	}
	for _, pj := range pjobs {
		st, err := prov.settle.Deal(w.ctx, pj.DealID)
		if err != nil {
			t.Fatal(err)
		}
		if pj.State == market.StatePaid && st.Status != contracts.DealClosed {
			t.Errorf("journal says paid, chain says %s", st.Status)
		}
	}
	if d := delta(w, before, prov); d.Cmp(paid) != 0 {
		t.Errorf("provider earned %v, client paid %v", d, paid)
	}
	t.Logf("%d jobs, %v wei paid", len(ids), paid)
}
