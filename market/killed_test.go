package market_test

import (
	"context"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// The in-process counterparts of tests/e2e TestProviderKilledMidRun's
// channel and retry cases (issue 8; docs/rationale/market-killed.md).

// TestChannelProviderKilledNotCharged: the provider of a channel job is
// stopped mid-run (its goroutines gone, its ledger kept, as a SIGKILL
// leaves it; the client's requests to it are lost) and stays silent past
// the job's deadline. The client ends the job's wait failed, not paid,
// but does not credit it: the provider cannot confirm it has no result,
// so the assignment stays open (charged on the channel, not paid in the
// ledger) and Settle keeps asking. When the provider comes back, its
// recovery credits the interrupted job instead of running it and
// counting it earned, and the client's next ask gets "credited": both
// credit. The next job's voucher is for the same cumulative amount, and
// the provider is paid one job's price for the two. The provider redeems at once (threshold one
// wei), so the interrupted job's voucher is already redeemed when it is
// killed: the credit must hold all the same.
func TestChannelProviderKilledNotCharged(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startNet()
	stuck := stuckRunner{Runner: prov.exec, started: make(chan struct{}, 1)}
	cfg := market.ProviderConfig{Price: testPrice, OfferInterval: time.Second, TickInterval: 50 * time.Millisecond,
		RedeemAmount: big.NewInt(1), WorkDir: t.TempDir(), ResultMargin: time.Second}
	deps := market.ProviderDeps{Net: prov.net, Seal: prov.seal, Content: prov.content, Runner: stuck,
		Settle: prov.settle, Ledger: prov.journal, Book: prov.book, Logger: quietLogger()}
	start := func(deps market.ProviderDeps) (*market.Provider, func()) {
		p, err := market.NewProvider(deps, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(ctx) }()
		var once sync.Once
		stop := func() { once.Do(func() { cancel(); p.Close(); <-done }) }
		t.Cleanup(stop)
		return p, stop
	}
	_, stop1 := start(deps)
	// The client waits the whole deadline: timeout (5 s) + ResultMargin.
	// Its requests to the killed provider are lost until it restarts.
	cl.startNet()
	fn := &filterNet{Network: cl.net, drop: isType(wire.TypeCancel)}
	cl.startClientOn(fn, market.ClientConfig{ResultMargin: 2 * time.Second})
	cl.waitOffers(1)
	ctx := w.ctx
	mod := cl.publishModule()
	before := w.credits(prov.addr())

	id1, err := cl.client.Submit(ctx, jobSpec(mod, "killed"), market.RunOptions{PayMode: wire.PayChannel})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-stuck.started:
	case <-time.After(30 * time.Second):
		t.Fatal("job never started")
	}
	// Killed mid-run (no result, no failure report), once it redeemed the
	// job's voucher.
	deadline := time.Now().Add(30 * time.Second)
	for delta(w, before, prov).Sign() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the provider never redeemed the voucher of the running job")
		}
		time.Sleep(20 * time.Millisecond) // polling the chain, with a deadline
	}
	stop1()

	if _, err := cl.client.Wait(ctx, id1); err == nil {
		t.Fatal("the job of a killed provider succeeded")
	}
	j1, _ := cl.client.Job(id1)
	if j1.State == market.StatePaid || len(j1.Assigned) != 1 {
		t.Fatalf("job %s %+v: want failed with one assignment", j1.State, j1.Assigned)
	}
	a1 := j1.Assigned[0]
	if a1.State != market.StateAwarded || a1.Credited || fn.dropped.Load() == 0 {
		t.Fatalf("unreachable provider's assignment %s credited %v (asks lost %d), want open", a1.State, a1.Credited, fn.dropped.Load())
	}
	if lj, err := cl.journal.Job(ctx, id1.String()); err != nil || lj.Terminal() {
		t.Fatalf("client ledger job %s (%v), want open while the provider cannot answer", lj.State, err)
	}
	channel := func(l *ledger.Ledger, role ledger.Role) ledger.Channel {
		t.Helper()
		cs, err := l.Channels(ctx, role)
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s channels %+v (%v), want one", role, cs, err)
		}
		return cs[0]
	}
	if cc := channel(cl.journal, ledger.RoleClient); cc.Charged().Cmp(a1.Price) != 0 || cc.Promised.Cmp(a1.Price) != 0 {
		t.Fatalf("client channel charged %s promised %s, want the open voucher %s", cc.Charged(), cc.Promised, a1.Price)
	}
	if tot, err := cl.journal.Totals(ctx); err != nil || tot.Paid.Sign() != 0 {
		t.Fatalf("client ledger paid %v (%v), want 0", tot.Paid, err)
	}

	// The provider comes back (same ledger, a working sandbox): recovery
	// credits the interrupted job and reports the failure.
	deps.Runner = prov.exec
	p2, _ := start(deps)
	prov.provider = p2
	pj := waitProviderState(t, prov, id1, market.StateFailed)
	if !pj.Credited || pj.ResultCID != "" {
		t.Fatalf("recovered provider job %+v: want failed, credited, no result", pj)
	}
	fn.off.Store(true) // reachable again: Settle's next ask gets "credited"
	j1 = waitClientJob(t, cl, id1, "the interrupted job credited", func(j *market.Job) bool { return j.Assigned[0].Credited })
	if a := j1.Assigned[0]; a.State != market.StateFailed || j1.State != market.StateFailed {
		t.Fatalf("job %s assignment %s, want failed and credited", j1.State, a.State)
	}
	if cc := channel(cl.journal, ledger.RoleClient); cc.Charged().Sign() != 0 {
		t.Fatalf("client channel charged %s after the credit, want 0", cc.Charged())
	}
	if pc := channel(prov.journal, ledger.RoleProvider); pc.Charged().Sign() != 0 {
		t.Fatalf("provider channel charged %s after recovery, want 0", pc.Charged())
	}

	// The next job is paid by the credit: the same cumulative voucher.
	id2, err := cl.client.Submit(ctx, jobSpec(mod, "after"), market.RunOptions{PayMode: wire.PayChannel})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "args: after\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	j2, _ := cl.client.Job(id2)
	if a2 := j2.Assigned[0]; a2.Cumulative.Cmp(a1.Cumulative) != 0 {
		t.Errorf("second voucher %s, want %s (the credit reused)", a2.Cumulative, a1.Cumulative)
	}
	waitProviderState(t, prov, id2, market.StatePaid)
	p2.RedeemAll(ctx)
	if d := delta(w, before, prov); d.Cmp(j2.Assigned[0].Price) != 0 {
		t.Errorf("provider redeemed %s in all, want one job's price %s", d, j2.Assigned[0].Price)
	}
	if tot, err := cl.journal.Totals(ctx); err != nil || tot.Paid.Cmp(j2.Assigned[0].Price) != 0 {
		t.Errorf("client ledger paid %v (%v), want one job's price", tot.Paid, err)
	}
	if tot, err := prov.journal.Totals(ctx); err != nil || tot.Earned.Cmp(j2.Assigned[0].Price) != 0 {
		t.Errorf("provider ledger earned %v (%v), want one job's price", tot.Earned, err)
	}
}

// startedRunner signals its first run, then behaves as inner.
type startedRunner struct {
	market.Runner
	once    sync.Once
	started chan struct{}
	gate    chan struct{} // nil: no wait
}

func (r *startedRunner) Run(ctx context.Context, s executor.Spec) (*executor.Result, error) {
	r.once.Do(func() { close(r.started) })
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return r.Runner.Run(ctx, s)
}

// TestRetryRefundsAbandonedDealInFlight: with --retry, the escrow deal of
// the provider that vanished in the first round is refunded as soon as
// its deadline passes, while the job's second round still runs (it used
// to wait for the whole job to end, and the job was listed paid with the
// escrow still locked). After the job ends paid, the abandoned assignment
// is recorded refunded, not paid, and the client's ledger pays exactly the
// second provider.
func TestRetryRefundsAbandonedDealInFlight(t *testing.T) {
	w := newWorld(t, 3)
	gone, good, cl := w.nodes[0], w.nodes[1], w.nodes[2]
	gone.runner = &vanishingRunner{Runner: gone.exec, close: func() { gone.h.Close() }}
	goodRun := &startedRunner{Runner: good.exec, started: make(chan struct{}), gate: make(chan struct{})}
	good.runner = goodRun
	cheap := wire.PriceSchedule{PerJob: big.NewInt(500_000_000_000), Tiers: testPrice.Tiers}
	gone.startProvider(market.ProviderConfig{Price: cheap})
	good.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{ResultMargin: 30 * time.Second})
	cl.waitOffers(2)
	ctx := w.ctx
	wait := 6 * time.Second
	if raceOn {
		wait = 20 * time.Second
	}
	id, err := cl.client.Submit(ctx, jobSpec(cl.publishModule(), "refund"), market.RunOptions{PayMode: wire.PayEscrow, Retry: 1,
		ResultTimeout: wait, Providers: []peer.ID{gone.id(), good.id()}})
	if err != nil {
		t.Fatal(err)
	}
	deal1 := waitDeal(t, cl, id, 0)
	// Past the first deal's deadline before the second round pays: the
	// second deal's deadline is then counted from the new chain time.
	head, err := w.chain.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.adjustTime(time.Duration(deal1.Deadline-head.Time+2) * time.Second)
	select {
	case <-goodRun.started:
	case <-time.After(60 * time.Second):
		t.Fatal("the second round never ran")
	}
	// The job is in flight (the second provider is held, well within the
	// round's wait): the abandoned deal is refunded all the same.
	dealID := cl.settle.DealID(deal1)
	deadline := time.Now().Add(wait / 2)
	for {
		st, err := cl.settle.Deal(ctx, dealID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == contracts.DealClosed {
			break
		}
		if time.Now().After(deadline) {
			close(goodRun.gate)
			t.Fatalf("abandoned deal %s while the retry runs, want refunded", st.Status)
		}
		time.Sleep(20 * time.Millisecond) // polling the chain, with a deadline
	}
	if d, err := cl.journal.Deal(ctx, dealID); err != nil || d.State != ledger.DealRefunded {
		t.Errorf("client ledger deal %s (%v), want refunded", d.State, err)
	}
	close(goodRun.gate)
	out, err := cl.client.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "args: refund\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	// Settle records the refund on the job once its process is done.
	var j *market.Job
	deadline = time.Now().Add(20 * time.Second)
	for {
		j, _ = cl.client.Job(id)
		if j.Assigned[0].State != market.StateAwarded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("abandoned assignment still %s after the job ended", j.Assigned[0].State)
		}
		time.Sleep(20 * time.Millisecond) // the client's settle tick
	}
	if j.State != market.StatePaid || j.Assigned[0].State != market.StateRefunded || j.Assigned[1].State != market.StatePaid {
		t.Fatalf("job %s assignments %s/%s, want paid with the abandoned one refunded", j.State, j.Assigned[0].State, j.Assigned[1].State)
	}
	if j.Paid.Cmp(j.Assigned[1].Price) != 0 {
		t.Errorf("job paid %s, want the second provider's %s", j.Paid, j.Assigned[1].Price)
	}
	tot, err := cl.journal.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Paid.Cmp(j.Assigned[1].Price) != 0 || tot.Refunded.Cmp(j.Assigned[0].Price) != 0 {
		t.Errorf("client ledger paid %s refunded %s, want %s and %s", tot.Paid, tot.Refunded, j.Assigned[1].Price, j.Assigned[0].Price)
	}
	lj, err := cl.journal.Job(ctx, id.String())
	if err != nil || !lj.Terminal() {
		t.Errorf("ledger job %s (%v), want terminal once every deal is settled", lj.State, err)
	}
}

// waitDeal polls the client's record of job id until assignment i has an
// open deal and returns its parameters.
func waitDeal(t *testing.T, cl *tnode, id wire.JobID, i int) contracts.DealParams {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := cl.client.Job(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(j.Assigned) > i && j.Assigned[i].Deal != nil && j.Assigned[i].DealOpen {
			return *j.Assigned[i].Deal
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: no open deal for assignment %d (%+v)", id, i, j.Assigned)
		}
		time.Sleep(20 * time.Millisecond) // polling the client's ledger, with a deadline
	}
}
