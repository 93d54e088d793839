package market_test

import (
	"context"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// raceSettle is a client chain whose disputes never go out (flakyDispute
// refuse), whose accepts wait until released, and which runs a hook on
// every deal lookup (settleDisputed's first step for a refused result).
type raceSettle struct {
	flakyDispute
	release  chan struct{} // closed: accepts go out
	inFlight chan struct{} // closed on the first accept
	once     sync.Once
	hook     atomic.Pointer[func(common.Hash)]
}

func (r *raceSettle) Accept(ctx context.Context, p contracts.DealParams) (*types.Receipt, error) {
	r.once.Do(func() { close(r.inFlight) })
	select {
	case <-r.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return r.flakyDispute.Accept(ctx, p)
}

func (r *raceSettle) Deal(ctx context.Context, id common.Hash) (contracts.DealState, error) {
	if f := r.hook.Load(); f != nil {
		(*f)(id)
	}
	return r.flakyDispute.Deal(ctx, id)
}

// Redundancy 3, one liar whose dispute never went out: the liar claims
// after the challenge window while the majority's accepts are still in
// flight. The client's dispute settlement records the claim at once (it
// does not wait for the accepts), and the accepts recorded between its
// read of the job and its write are kept: the job ends paid, every
// assignment paid, and both ledgers agree with the chain to the wei.
func TestRefusedClaimWhileAcceptInFlight(t *testing.T) {
	w := newWorld(t, 4)
	cl, liar := w.nodes[3], w.nodes[0]
	liar.runner = lyingRunner{liar.exec}
	for _, p := range w.nodes[:3] {
		p.startProvider(market.ProviderConfig{TickInterval: time.Hour})
	}
	cl.startNet()
	rs := &raceSettle{flakyDispute: flakyDispute{cl.settle, true}, release: make(chan struct{}), inFlight: make(chan struct{})}
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(rs.release) }) }
	t.Cleanup(releaseAll)
	c, err := market.NewClient(market.ClientDeps{Net: cl.net, Seal: cl.seal, Content: cl.content,
		Settle: rs, Ledger: cl.journal, Book: cl.book, Logger: quietLogger()},
		market.ClientConfig{Mediator: w.mediator.Address(), TickInterval: time.Hour, BidWait: 3 * time.Second, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cl.client = c
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close(); <-done })
	cl.waitOffers(3)
	before := credits(w, w.nodes...)
	spec := jobSpec(cl.publishModule(), "x")
	spec.Redundancy = 3
	id, err := c.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Wait(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if out.Job.State != market.StateVerified {
		t.Fatalf("outcome %s, want verified (accepts to follow)", out.Job.State)
	}
	select {
	case <-rs.inFlight:
	case <-w.ctx.Done():
		t.Fatal("no accept went out")
	}
	a := assignmentOf(t, cl, id, liar)
	if a.State != market.StateFailed || !strings.Contains(a.Error, "dispute failed") {
		t.Fatalf("liar %s (%s), want failed: the dispute never landed", a.State, a.Error)
	}
	// The liar's commitment is sent in the background (escrow_commit.go):
	// the window runs from when it landed, and the claim needs it recorded.
	waitFor(t, "the liar's commitment recorded", func() bool {
		d, err := liar.journal.Deal(context.Background(), a.DealID)
		return err == nil && d.State == ledger.DealSubmitted
	})
	w.adjustTime(61 * time.Second)
	liar.provider.SettleDisputes(w.ctx)
	liar.provider.Settle(w.ctx) // claims
	checkProviderLedger(t, liar, id, a.DealID, ledger.JobPaid, ledger.DealClaimed, false)

	// The accepts land after the dispute settlement read the job and
	// before it writes.
	hook := func(deal common.Hash) {
		if deal != a.DealID {
			return
		}
		rs.hook.Store(nil)
		evs, stop := c.Events(id)
		defer stop()
		releaseAll()
		wait, cancel := context.WithTimeout(w.ctx, 30*time.Second)
		defer cancel()
		for {
			if j, err := c.Job(id); err == nil && j.State == market.StatePaid {
				return
			}
			select {
			case <-evs:
			case <-wait.Done():
				t.Error("the accepts were not recorded")
				return
			}
		}
	}
	rs.hook.Store(&hook)
	c.SettleDisputes(w.ctx)
	if a = assignmentOf(t, cl, id, liar); a.State != market.StatePaid {
		t.Fatalf("liar %s (%s) after the dispute settlement, want paid: it claimed", a.State, a.Error)
	}
	if rs.hook.Load() != nil {
		t.Fatal("the dispute settlement did not look at the claimed deal")
	}
	three := new(big.Int).Mul(jobPrice, big.NewInt(3))
	// Its write kept the accepts recorded meanwhile (no Settle yet).
	checkAllPaid(t, c, id, three)
	c.Settle(w.ctx)
	for _, p := range w.nodes[1:3] {
		p.provider.Settle(w.ctx) // the honest providers see their accepts
	}
	checkAllPaid(t, c, id, three)
	if d, _ := cl.journal.Deal(w.ctx, a.DealID); d.State != ledger.DealClaimed {
		t.Errorf("client's deal of the liar %s, want claimed", d.State)
	}
	if lj, _ := cl.journal.Job(w.ctx, id.String()); lj.State != ledger.JobAccepted {
		t.Errorf("client's ledger job %s, want accepted", lj.State)
	}
	tot, _ := cl.journal.Totals(w.ctx)
	if tot.Locked.Cmp(three) != 0 || tot.Paid.Cmp(three) != 0 || tot.Refunded.Sign() != 0 {
		t.Errorf("client's totals %+v, want %v locked and paid", tot, three)
	}
	if d := delta(w, before[3], cl); d.Sign() != 0 {
		t.Errorf("client credited %v, want nothing back", d)
	}
	for _, p := range w.nodes[:3] {
		pt, _ := p.journal.Totals(w.ctx)
		if d := delta(w, before[indexOf(w, p)], p); d.Cmp(jobPrice) != 0 || pt.Earned.Cmp(jobPrice) != 0 {
			t.Errorf("provider %s credited %v, earned %v, want %v", p.id(), d, pt.Earned, jobPrice)
		}
	}
	if rep, _ := cl.journal.Reputation(w.ctx, liar.addr()); rep.Disagreements != 1 {
		t.Errorf("liar's record %+v", rep)
	}
}

// checkAllPaid checks that client job id is paid, every assignment too,
// for want in all.
func checkAllPaid(t *testing.T, c *market.Client, id wire.JobID, want *big.Int) {
	t.Helper()
	j, err := c.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != market.StatePaid || j.Paid.Cmp(want) != 0 {
		t.Errorf("job %s paid %v, want paid %v", j.State, j.Paid, want)
	}
	for _, a := range j.Assigned {
		if a.State != market.StatePaid {
			t.Errorf("%s's assignment %s (%s), want paid", a.Provider, a.State, a.Error)
		}
	}
}

func indexOf(w *world, nd *tnode) int {
	for i, n := range w.nodes {
		if n == nd {
			return i
		}
	}
	return -1
}
