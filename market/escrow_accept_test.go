package market_test

import (
	"context"
	"errors"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// Issue 9: an escrow client returns the verified result before its
// accept transaction (escrow_accept.go), and the provider delivers the
// result while its commitment is mined (escrow_commit.go). These tests
// hold the money rules across the gap.

// holdAccept is a client Settlement whose Accept does not go out: it
// blocks until its ctx ends (block) or fails at once, counting calls.
// Everything else is the chain's, event reads included (closing events,
// result logs), as a real client's Settlement has them.
type holdAccept struct {
	*contracts.Client
	block bool
	calls atomic.Int32
}

func (h *holdAccept) Accept(ctx context.Context, p contracts.DealParams) (*types.Receipt, error) {
	h.calls.Add(1)
	if h.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, errors.New("accept refused (test)")
}

// startClientWith is startClient with another Settlement.
func startClientWith(t *testing.T, nd *tnode, s market.Settlement) {
	t.Helper()
	if nd.net == nil {
		nd.startNet()
	}
	c, err := market.NewClient(market.ClientDeps{Net: nd.net, Seal: nd.seal, Content: nd.content, Settle: s,
		Ledger: nd.journal, Book: nd.book, Logger: quietLogger()},
		market.ClientConfig{BidWait: 3 * time.Second, TickInterval: 50 * time.Millisecond, ResultMargin: time.Minute, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	nd.client = c
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close(); <-done })
}

// submitVerified submits an escrow job to prov and waits for its
// outcome, which must be the verified result with nothing paid yet.
func submitVerified(t *testing.T, w *world, cl, prov *tnode, arg string) (wire.JobID, *market.Outcome) {
	t.Helper()
	id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), arg), market.RunOptions{PayMode: wire.PayEscrow, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "args: "+arg+"\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	if out.Job.State != market.StateVerified || out.Job.Paid.Sign() != 0 || out.Job.Assigned[0].State != market.StateVerified {
		t.Fatalf("outcome %s paid %v assignment %s, want verified with nothing paid", out.Job.State, out.Job.Paid, out.Job.Assigned[0].State)
	}
	return id, out
}

// checkEscrowSettled checks both ledgers against the chain for one paid
// escrow job: the client paid the price once, the provider earned it
// once (claimed says by whose transaction), the deal is closed.
func checkEscrowSettled(t *testing.T, w *world, cl, prov *tnode, id wire.JobID, before *big.Int, claimed bool) {
	t.Helper()
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	a := j.Assigned[0]
	if j.State != market.StatePaid || a.State != market.StatePaid || j.Paid.Cmp(a.Price) != 0 {
		t.Fatalf("client job %s assignment %s paid %v, want paid %v", j.State, a.State, j.Paid, a.Price)
	}
	if st, err := cl.settle.Deal(w.ctx, a.DealID); err != nil || st.Status != contracts.DealClosed {
		t.Fatalf("deal %v (%v), want closed", st.Status, err)
	}
	lj, err := cl.journal.Job(w.ctx, id.String())
	if err != nil || lj.State != ledger.JobAccepted {
		t.Fatalf("client ledger job %s (%v), want accepted", lj.State, err)
	}
	if tot, err := cl.journal.Totals(w.ctx); err != nil || tot.Paid.Cmp(a.Price) != 0 {
		t.Fatalf("client ledger paid %v (%v), want %v", tot.Paid, err, a.Price)
	}
	// The client's deal says who closed it, as the chain does (issue 6).
	want := map[bool]ledger.DealState{false: ledger.DealAccepted, true: ledger.DealClaimed}[claimed]
	if d, err := cl.journal.Deal(w.ctx, a.DealID); err != nil || d.State != want {
		t.Fatalf("client ledger deal %s (%v), want %s", d.State, err, want)
	}
	pj := waitProviderState(t, prov, id, market.StatePaid)
	if pj.Claimed != claimed {
		t.Errorf("provider claimed %v, want %v", pj.Claimed, claimed)
	}
	waitFor(t, "the provider's ledger and credits", func() bool {
		return earned(t, prov).Cmp(a.Price) == 0 && delta(w, before, prov).Cmp(a.Price) == 0
	})
}

// TestEscrowClientKilledBeforeAccept: the client is killed (its ledger
// closed under it) after its verdict, with the accept not sent. The
// ledger says verified, not paid; a new client on the same ledger
// accepts at its first settle, and both sides end paid once, by the
// accept (not the provider's claim).
func TestEscrowClientKilledBeforeAccept(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{})
	hold := &holdAccept{Client: cl.settle, block: true}
	startClientWith(t, cl, hold)
	cl.waitOffers(1)
	before := w.credits(prov.addr())
	id, out := submitVerified(t, w, cl, prov, "killed")
	waitFor(t, "the accept under way", func() bool { return hold.calls.Load() > 0 })
	lj, err := cl.journal.Job(w.ctx, id.String())
	if err != nil || lj.State != ledger.JobResultReceived || lj.Providers[0].Verdict != "agree" {
		t.Fatalf("ledger job %+v (%v), want result_received with an agree verdict", lj, err)
	}
	if tot, err := cl.journal.Totals(w.ctx); err != nil || tot.Paid.Sign() != 0 {
		t.Fatalf("client ledger paid %v before any accept (%v)", tot.Paid, err)
	}
	// Killed: nothing it does from now on is written.
	cl.journal.Close()
	cl.client.Close()
	if st, err := cl.settle.Deal(w.ctx, out.Job.Assigned[0].DealID); err != nil || st.Status != contracts.DealSubmitted {
		t.Fatalf("deal %v (%v) after the kill, want submitted (committed, not accepted)", st.Status, err)
	}
	cl.openJournal()
	cl.startClient(market.ClientConfig{})
	j, err := cl.client.WaitSettled(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != market.StatePaid {
		t.Fatalf("job %s after the restart, want paid", j.State)
	}
	checkEscrowSettled(t, w, cl, prov, id, before, false)
}

// TestEscrowCommitRetriedWhileClientWaits: the provider's commitment
// fails (the chain unreachable for it) after it delivered the result.
// The client has its verified result but cannot accept: it waits, with
// nothing paid, until the provider's settle loop gets the commitment on
// chain, then accepts.
func TestEscrowCommitRetriedWhileClientWaits(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	fs := &flakySettle{Client: prov.settle}
	fs.fail.Store(true)
	startFlakyProvider(t, prov, fs)
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	before := w.credits(prov.addr())
	id, out := submitVerified(t, w, cl, prov, "waits")
	waitFor(t, "two failed commits", func() bool { return fs.calls.Load() >= 2 })
	j, err := cl.client.Job(id)
	if err != nil || j.State != market.StateVerified || j.Assigned[0].State != market.StateVerified {
		t.Fatalf("job %+v (%v), want verified while the commitment is missing", j, err)
	}
	if st, err := cl.settle.Deal(w.ctx, out.Job.Assigned[0].DealID); err != nil || st.Status != contracts.DealOpen {
		t.Fatalf("deal %v (%v), want open", st.Status, err)
	}
	if d, err := cl.journal.Deal(w.ctx, out.Job.Assigned[0].DealID); err != nil || d.State != ledger.DealOpened {
		t.Fatalf("client ledger deal %s (%v), want opened (never ahead of the chain)", d.State, err)
	}
	fs.fail.Store(false)
	if _, err := cl.client.WaitSettled(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	checkEscrowSettled(t, w, cl, prov, id, before, false)
}

// TestEscrowProviderClaimsWhenClientNeverAccepts: every accept of the
// client fails. The provider claims after the challenge window, and the
// client's Settle records the job paid (the chain paid it), once.
func TestEscrowProviderClaimsWhenClientNeverAccepts(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{})
	hold := &holdAccept{Client: cl.settle}
	startClientWith(t, cl, hold)
	cl.waitOffers(1)
	before := w.credits(prov.addr())
	id, out := submitVerified(t, w, cl, prov, "claim")
	waitFor(t, "accepts tried", func() bool { return hold.calls.Load() >= 2 })
	waitProviderState(t, prov, id, market.StateSubmitted)
	if j, err := cl.client.Job(id); err != nil || j.State != market.StateVerified {
		t.Fatalf("job %+v (%v), want verified", j, err)
	}
	w.adjustTime(2 * time.Minute) // past the challenge window (60 s)
	if _, err := cl.client.WaitSettled(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, err := cl.settle.Deal(w.ctx, out.Job.Assigned[0].DealID); err != nil || st.Status != contracts.DealClosed {
		t.Fatalf("deal %v (%v), want closed", st.Status, err)
	}
	checkEscrowSettled(t, w, cl, prov, id, before, true)
}
