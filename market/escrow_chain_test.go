package market_test

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/ledger/chainview"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// checkDealsTrue checks every deal in nd's ledger against the chain: a
// deal the ledger has closed closed on chain the same way (accepted,
// claimed, refunded, resolved for the same side), and an open one is
// never ahead of the chain (ledger.ReconcileDeal finds no anomaly).
// exact: nothing is left to reconcile either (the ledger caught up).
func checkDealsTrue(t *testing.T, nd *tnode, exact bool) {
	t.Helper()
	ctx := context.Background()
	cv := chainview.New(nd.settle, 0)
	for _, role := range []ledger.Role{ledger.RoleClient, ledger.RoleProvider} {
		ds, err := nd.journal.Deals(ctx, role)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			cd, err := cv.DealOnChain(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.State.Terminal() {
				if cd.Status == ledger.ChainDealClosed && (d.State != cd.Outcome || d.ForProvider != cd.ForProvider) {
					t.Errorf("%s ledger: deal %s %s (for provider %t), chain closed it %s (for provider %t)",
						role, d.ID, d.State, d.ForProvider, cd.Outcome, cd.ForProvider)
				}
				continue
			}
			corr, differs := ledger.ReconcileDeal(d, cd, time.Now())
			if differs && (corr.Anomaly || exact) {
				t.Errorf("%s ledger: deal %s is %s, chain %s: %s", role, d.ID, d.State, cd.Status, corr.Note)
			}
		}
	}
}

// startGatedFlakyProvider starts nd's provider with a runner held by g
// and a chain whose commitments fail while fs.fail is set.
func startGatedFlakyProvider(t *testing.T, nd *tnode, g gatedRunner, fs *flakySettle) {
	nd.startNet()
	cfg := market.ProviderConfig{Price: testPrice, OfferInterval: time.Second, TickInterval: 50 * time.Millisecond,
		WorkDir: t.TempDir(), ResultMargin: time.Second}
	p, err := market.NewProvider(market.ProviderDeps{Net: nd.net, Seal: nd.seal, Content: nd.content, Runner: g,
		Settle: fs, Ledger: nd.journal, Book: nd.book, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.provider = p
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
}

// TestEscrowRestartedClientResultBeforeCommitment: the client is killed
// while the provider runs an escrow job; a new client on the same ledger
// receives the result while the provider's commitment is still missing
// on chain (its submitResult fails), and none of its accepts goes
// through. Its ledger must say what the chain says at every step:
//
//   - result received, deal open on chain: the ledger deal is opened
//     (it said submitted: ahead of the chain);
//   - the commitment lands: the ledger deal moves to submitted;
//   - the provider claims after the challenge window: the ledger deal is
//     claimed (it said accepted), the job paid once, both ledgers agree
//     with the chain to the wei.
func TestEscrowRestartedClientResultBeforeCommitment(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	g := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	fs := &flakySettle{Client: prov.settle}
	fs.fail.Store(true)
	startGatedFlakyProvider(t, prov, g, fs)
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	before := w.credits(prov.addr())
	c1 := cl.client
	id, err := c1.Submit(w.ctx, jobSpec(cl.publishModule(), "pending"), market.RunOptions{PayMode: wire.PayEscrow, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.started:
	case <-time.After(60 * time.Second):
		t.Fatal("job never started")
	}
	waitFor(t, "client job awarded", func() bool {
		j, err := c1.Job(id)
		return err == nil && j.State == market.StateAwarded
	})
	// Killed: nothing it does from now on is written.
	cl.journal.Close()
	c1.Close()
	cl.openJournal()
	hold := &holdAccept{Client: cl.settle} // every accept fails
	startClientWith(t, cl, hold)
	close(g.gate)

	var a market.Assignment
	waitFor(t, "the result recorded by the restarted client", func() bool {
		j, err := cl.client.Job(id)
		if err != nil || j.Assigned[0].ResultCID == "" {
			return false
		}
		a = j.Assigned[0]
		return true
	})
	if st, err := cl.settle.Deal(w.ctx, a.DealID); err != nil || st.Status != contracts.DealOpen {
		t.Fatalf("deal %v (%v), want open: the commitment has not landed", st.Status, err)
	}
	if d, err := cl.journal.Deal(w.ctx, a.DealID); err != nil || d.State != ledger.DealOpened {
		t.Fatalf("client ledger deal %s (%v) with the commitment not on chain, want opened", d.State, err)
	}
	if lj, err := cl.journal.Job(w.ctx, id.String()); err != nil || lj.Providers[0].ResultCID != a.ResultCID {
		t.Fatalf("client ledger job %+v (%v): the received result must be carried on the job", lj, err)
	}
	checkDealsTrue(t, cl, false)

	fs.fail.Store(false) // the provider's next commit goes through
	waitFor(t, "the client ledger deal submitted once the chain is", func() bool {
		d, err := cl.journal.Deal(w.ctx, a.DealID)
		return err == nil && d.State == ledger.DealSubmitted && d.SubmittedAt != 0
	})
	checkDealsTrue(t, cl, false)

	w.adjustTime(2 * time.Minute) // past the challenge window (60 s): the provider claims
	if _, err := cl.client.WaitSettled(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	checkEscrowSettled(t, w, cl, prov, id, before, true)
	checkDealsTrue(t, cl, true)
	checkDealsTrue(t, prov, true)
}
