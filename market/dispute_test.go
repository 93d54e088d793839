package market_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/ledger/chainview"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// disputeWorld: three escrow providers, nodes[0] lying, and a client
// (nodes[3]) whose deals name the world's mediator. The liar's settle
// tick is an hour so the test decides when it settles.
// notice: the liar settles once while the deal is disputed (else it
// first hears of the dispute once the deal is closed).
func disputeWorld(t *testing.T, notice bool) (w *world, cl, liar *tnode, id wire.JobID, before []*big.Int) {
	t.Helper()
	w = newWorld(t, 4)
	cl, liar = w.nodes[3], w.nodes[0]
	liar.runner = lyingRunner{liar.exec}
	liar.startProvider(market.ProviderConfig{TickInterval: time.Hour})
	for _, p := range w.nodes[1:3] {
		p.startProvider(market.ProviderConfig{})
	}
	cl.startClient(market.ClientConfig{Mediator: w.mediator.Address()})
	cl.waitOffers(3)
	before = credits(w, w.nodes...)
	spec := jobSpec(cl.publishModule(), "d")
	spec.Redundancy = 3
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "args: d\n" {
		t.Fatalf("stdout %q: the majority's output should win", out.Stdout)
	}
	if _, err := cl.client.WaitSettled(w.ctx, id); err != nil { // the majority's accepts follow Wait
		t.Fatal(err)
	}
	a := assignmentOf(t, cl, id, liar)
	if a.State != market.StateDisputed {
		t.Fatalf("liar's assignment %s (%s), want disputed", a.State, a.Error)
	}
	if notice {
		// The liar notices the dispute: its job and deal are disputed,
		// and its Settle no longer lists the job.
		liar.provider.SettleDisputes(w.ctx)
		checkProviderLedger(t, liar, id, a.DealID, ledger.JobDisputed, ledger.DealDisputed, false)
	}
	return w, cl, liar, id, before
}

func assignmentOf(t *testing.T, cl *tnode, id wire.JobID, p *tnode) market.Assignment {
	t.Helper()
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range j.Assigned {
		if a.Provider == p.id() {
			return a
		}
	}
	t.Fatalf("%s not assigned to job %s", p.id(), id)
	return market.Assignment{}
}

func checkProviderLedger(t *testing.T, p *tnode, id wire.JobID, deal common.Hash, job ledger.JobState, st ledger.DealState, forProvider bool) {
	t.Helper()
	ctx := context.Background()
	lj, err := p.journal.Job(ctx, ledger.JobKey(p.w.nodes[len(p.w.nodes)-1].id().String(), id.String())) // the client is the last node
	if err != nil {
		t.Fatal(err)
	}
	if lj.State != job {
		t.Errorf("provider's job %s (%s), want %s", lj.State, lj.Error, job)
	}
	d, err := p.journal.Deal(ctx, deal)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != st || d.ForProvider != forProvider {
		t.Errorf("provider's deal %s forProvider=%t (%s), want %s forProvider=%t", d.State, d.ForProvider, d.Note, st, forProvider)
	}
}

// checkSettled checks both sides' ledgers and the chain once the liar's
// dispute ended with the client refunded (how: note).
func checkSettled(t *testing.T, w *world, cl, liar *tnode, id wire.JobID, before []*big.Int, dealState ledger.DealState, note string) {
	t.Helper()
	ctx := context.Background()
	a := assignmentOf(t, cl, id, liar)
	if a.State != market.StateRefunded || !strings.Contains(a.Error, note) {
		t.Errorf("client's view of the liar: %s %q, want refunded (%s)", a.State, a.Error, note)
	}
	lj, err := cl.journal.Job(ctx, id.String())
	if err != nil {
		t.Fatal(err)
	}
	if lj.State != ledger.JobAccepted {
		t.Errorf("client's ledger job %s, want accepted (the majority was paid)", lj.State)
	}
	d, err := cl.journal.Deal(ctx, a.DealID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != dealState || d.ForProvider || d.CloseTx == (common.Hash{}) {
		t.Errorf("client's deal of the liar %+v, want %s for the client", d, dealState)
	}
	checkProviderLedger(t, liar, id, a.DealID, ledger.JobRefunded, dealState, false)

	// Money: the chain credited the client the liar's price, the liar
	// nothing, each honest provider its price, and each ledger says so.
	tot, err := cl.journal.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	three, two := new(big.Int).Mul(jobPrice, big.NewInt(3)), new(big.Int).Mul(jobPrice, big.NewInt(2))
	if tot.Locked.Cmp(three) != 0 || tot.Paid.Cmp(two) != 0 || tot.Refunded.Cmp(jobPrice) != 0 {
		t.Errorf("client's totals locked %v paid %v refunded %v, want %v %v %v", tot.Locked, tot.Paid, tot.Refunded, three, two, jobPrice)
	}
	if d := delta(w, before[3], cl); d.Cmp(tot.Refunded) != 0 {
		t.Errorf("chain credited the client %v, its ledger says refunded %v", d, tot.Refunded)
	}
	lt, err := liar.journal.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := delta(w, before[0], liar); d.Sign() != 0 || lt.Earned.Sign() != 0 {
		t.Errorf("liar credited %v, its ledger says earned %v; want nothing", d, lt.Earned)
	}
	for i, p := range w.nodes[1:3] {
		waitProviderState(t, p, id, market.StatePaid)
		pt, err := p.journal.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := delta(w, before[i+1], p); d.Cmp(jobPrice) != 0 || pt.Earned.Cmp(jobPrice) != 0 {
			t.Errorf("honest provider %d credited %v, earned %v; want %v", i+1, d, pt.Earned, jobPrice)
		}
	}
	rep, err := cl.journal.Reputation(ctx, liar.addr())
	if err != nil || rep.Disagreements != 1 || rep.Successes != 0 {
		t.Errorf("liar's record %+v (%v), want one disagreement", rep, err)
	}
}

// Redundancy 3, one liar, escrow: the liar is disputed, the mediator
// re-runs the job and rules for the client. The client's ledger says
// the liar's deal was resolved for it and refunded, the liar's says
// refunded (not paid), and the balances add up on chain.
func TestDisputeMediatorRulesForClient(t *testing.T) {
	for _, notice := range []bool{true, false} {
		t.Run(map[bool]string{true: "liar saw the dispute", false: "liar saw only the ruling"}[notice], func(t *testing.T) {
			w, cl, liar, id, before := disputeWorld(t, notice)
			j, err := cl.client.Job(id)
			if err != nil {
				t.Fatal(err)
			}
			if decided := mediate(t, w, cl, j); len(decided) != 1 || decided[liar.addr()] {
				t.Fatalf("mediation %v, want the liar to lose", decided)
			}
			cl.client.SettleDisputes(w.ctx)
			liar.provider.SettleDisputes(w.ctx)
			liar.provider.Settle(w.ctx) // must not take the closed deal for paid now
			checkSettled(t, w, cl, liar, id, before, ledger.DealResolved, "ruled for the client")
			// Settling again changes nothing.
			cl.client.SettleDisputes(w.ctx)
			liar.provider.SettleDisputes(w.ctx)
			checkSettled(t, w, cl, liar, id, before, ledger.DealResolved, "ruled for the client")
		})
	}
}

// The mediator never rules: after the mediation timeout the liar itself
// expires the dispute (its collateral is unlocked) and the client is
// refunded price and fee: DisputeExpired, a refund on both ledgers.
func TestDisputeMediatorSilentExpires(t *testing.T) {
	w, cl, liar, id, before := disputeWorld(t, true)
	cl.client.SettleDisputes(w.ctx) // too early: nothing moves
	if a := assignmentOf(t, cl, id, liar); a.State != market.StateDisputed {
		t.Fatalf("settled before the mediation timeout: %s", a.State)
	}
	w.adjustTime(301 * time.Second) // the dev chain's mediation timeout is 300 s
	liar.provider.SettleDisputes(w.ctx)
	liar.provider.Settle(w.ctx)
	cl.client.SettleDisputes(w.ctx)
	checkSettled(t, w, cl, liar, id, before, ledger.DealRefunded, "dispute expired")
}

// Both the client and the liar stop while the dispute is open; the
// mediator rules meanwhile. On restart each reopens its ledger,
// reconciles it with the chain and settles: the same end as without the
// restart.
func TestDisputeRestartFinishes(t *testing.T) {
	w, cl, liar, id, before := disputeWorld(t, false)
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	// Stop both (their Run loops end, their ledgers close).
	cl.client.Close()
	liar.cancel()
	liar.provider.Close()
	for _, nd := range []*tnode{cl, liar} {
		if err := nd.journal.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if decided := mediate(t, w, cl, j); decided[liar.addr()] {
		t.Fatal("mediator ruled for the liar")
	}
	for _, nd := range []*tnode{cl, liar} {
		nd.openJournal()
		if _, err := nd.journal.Reconcile(w.ctx, chainview.New(nd.settle, 0)); err != nil {
			t.Fatal(err)
		}
	}
	var err2 error
	cl.client, err2 = market.NewClient(market.ClientDeps{Net: cl.net, Seal: cl.seal, Content: cl.content, Settle: cl.settle,
		Ledger: cl.journal, Book: cl.book, Logger: quietLogger()}, market.ClientConfig{Mediator: w.mediator.Address(), WorkDir: t.TempDir()})
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Cleanup(func() { cl.client.Close() })
	liar.provider, err2 = market.NewProvider(market.ProviderDeps{Net: liar.net, Seal: liar.seal, Content: liar.content, Runner: liar.runner,
		Settle: liar.settle, Ledger: liar.journal, Book: liar.book, Logger: quietLogger()},
		market.ProviderConfig{Price: testPrice, TickInterval: time.Hour, OfferInterval: time.Second, WorkDir: t.TempDir()})
	if err2 != nil {
		t.Fatal(err2)
	}
	t.Cleanup(func() { liar.provider.Close() })
	liar.provider.SettleDisputes(w.ctx)
	liar.provider.Settle(w.ctx)
	cl.client.Settle(w.ctx)
	cl.client.SettleDisputes(w.ctx)
	checkSettled(t, w, cl, liar, id, before, ledger.DealResolved, "ruled for the client")
}

// Channel mode: the minority keeps the voucher it was paid with before
// the run (docs/rationale/market.md), but its reputation drops in the
// client's ledger, durably: a client started again on the same ledger
// still rates it down.
func TestChannelMinorityReputationDrops(t *testing.T) {
	w := newWorld(t, 4)
	cl, liar := w.nodes[3], w.nodes[0]
	liar.runner = lyingRunner{liar.exec}
	for _, p := range w.nodes[:3] {
		p.startProvider(market.ProviderConfig{})
	}
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(3)
	spec := jobSpec(cl.publishModule(), "v")
	spec.Redundancy = 3
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	a := assignmentOf(t, cl, id, liar)
	if a.State != market.StateFailed || a.Cumulative == nil || a.Cumulative.Sign() == 0 {
		t.Errorf("liar's assignment %s voucher %v, want failed with its voucher", a.State, a.Cumulative)
	}
	lj, err := cl.journal.Job(w.ctx, id.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, la := range lj.Providers {
		want := "agree"
		if la.Provider == liar.id().String() {
			want = "disagree"
		}
		if la.Verdict != want {
			t.Errorf("verdict on %s: %q, want %q", la.Provider, la.Verdict, want)
		}
	}
	rep, err := cl.journal.Reputation(w.ctx, liar.addr())
	if err != nil || rep.Disagreements != 1 {
		t.Fatalf("liar's record %+v (%v), want one disagreement", rep, err)
	}
	// The liar holds its voucher (not credited back).
	waitProviderState(t, liar, id, market.StatePaid)
	again, err := market.NewClient(market.ClientDeps{Net: cl.net, Seal: cl.seal, Content: cl.content, Settle: cl.settle,
		Ledger: cl.journal, Book: cl.book, Logger: quietLogger()}, market.ClientConfig{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if r := again.Reputation(liar.id()); r >= 0.2 {
		t.Errorf("liar's reputation after a restart %v, want it still down", r)
	}
	if r := again.Reputation(w.nodes[1].id()); r <= 0.5 {
		t.Errorf("honest provider's reputation %v, want it up", r)
	}
}

// refusedWorld runs one escrow job of redundancy k with nodes[0] lying
// and the client at nodes[k]; every settle loop ticks hourly, so the
// test drives SettleDisputes and Settle in the order a tick runs them.
func refusedWorld(t *testing.T, k int, mediator bool) (w *world, cl, liar *tnode, id wire.JobID, before []*big.Int, werr error) {
	t.Helper()
	w = newWorld(t, k+1)
	cl, liar = w.nodes[k], w.nodes[0]
	liar.runner = lyingRunner{liar.exec}
	for _, p := range w.nodes[:k] {
		p.startProvider(market.ProviderConfig{TickInterval: time.Hour})
	}
	cfg := market.ClientConfig{TickInterval: time.Hour}
	if mediator {
		cfg.Mediator = w.mediator.Address()
	}
	cl.startClient(cfg)
	cl.waitOffers(k)
	before = credits(w, w.nodes...)
	spec := jobSpec(cl.publishModule(), "r")
	spec.Redundancy = k
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	_, werr = cl.client.Wait(w.ctx, id)
	if werr == nil {
		if _, err := cl.client.WaitSettled(w.ctx, id); err != nil { // the majority's accepts follow Wait
			t.Fatal(err)
		}
	}
	return w, cl, liar, id, before, werr
}

func tick(w *world, cl *tnode, ps ...*tnode) {
	cl.client.SettleDisputes(w.ctx)
	cl.client.Settle(w.ctx)
	for _, p := range ps {
		p.provider.SettleDisputes(w.ctx)
		p.provider.Settle(w.ctx)
	}
}

// Redundancy 2, one liar: no majority, both disputed. The mediator rules
// for the honest provider (paid, its rating for the job a success) and
// against the liar (refunded). Each ledger says so and matches the chain.
func TestDisputeMediatorRulesForProvider(t *testing.T) {
	w, cl, liar, id, before, err := refusedWorld(t, 2, true)
	if !errors.Is(err, market.ErrNoMajority) {
		t.Fatalf("err %v, want ErrNoMajority", err)
	}
	honest := w.nodes[1]
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	tick(w, cl, liar, honest) // both notice the disputes
	decided := mediate(t, w, cl, j)
	if !decided[honest.addr()] || decided[liar.addr()] {
		t.Fatalf("mediation %v", decided)
	}
	tick(w, cl, liar, honest)
	ha := assignmentOf(t, cl, id, honest)
	checkProviderLedger(t, honest, id, ha.DealID, ledger.JobPaid, ledger.DealResolved, true)
	checkProviderLedger(t, liar, id, assignmentOf(t, cl, id, liar).DealID, ledger.JobRefunded, ledger.DealResolved, false)
	if ha.State != market.StatePaid || assignmentOf(t, cl, id, liar).State != market.StateRefunded {
		t.Errorf("client's assignments: honest %s, liar %s", ha.State, assignmentOf(t, cl, id, liar).State)
	}
	ctx := w.ctx
	if lj, _ := cl.journal.Job(ctx, id.String()); lj.State != ledger.JobFailed {
		t.Errorf("client's job %s, want failed (no majority)", lj.State)
	}
	tot, _ := cl.journal.Totals(ctx)
	two := new(big.Int).Mul(jobPrice, big.NewInt(2))
	if tot.Locked.Cmp(two) != 0 || tot.Paid.Cmp(jobPrice) != 0 || tot.Refunded.Cmp(jobPrice) != 0 {
		t.Errorf("client's totals %+v", tot)
	}
	if d := delta(w, before[2], cl); d.Cmp(tot.Refunded) != 0 {
		t.Errorf("client credited %v, ledger refunded %v", d, tot.Refunded)
	}
	ht, _ := honest.journal.Totals(ctx)
	if d := delta(w, before[1], honest); d.Cmp(jobPrice) != 0 || ht.Earned.Cmp(jobPrice) != 0 {
		t.Errorf("honest provider credited %v, earned %v", d, ht.Earned)
	}
	if rep, _ := cl.journal.Reputation(ctx, honest.addr()); rep.Successes != 1 || rep.Disagreements != 0 {
		t.Errorf("honest provider's record %+v, want the ruling to make it a success", rep)
	}
	if rep, _ := cl.journal.Reputation(ctx, liar.addr()); rep.Disagreements != 1 {
		t.Errorf("liar's record %+v", rep)
	}
}

// No mediator on the deals: the contract allows no dispute, so the liar
// is not accepted but claims after the challenge window. Both ledgers
// record what the chain did: claimed and paid; the liar is rated down.
func TestNoMediatorLiarClaims(t *testing.T) {
	w, cl, liar, id, before, err := refusedWorld(t, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	a := assignmentOf(t, cl, id, liar)
	if a.State != market.StateFailed || !strings.Contains(a.Error, "no mediator") {
		t.Fatalf("liar's assignment %s %q, want failed (no mediator)", a.State, a.Error)
	}
	w.adjustTime(61 * time.Second) // past the challenge window
	tick(w, cl, liar)
	tick(w, cl)
	checkProviderLedger(t, liar, id, a.DealID, ledger.JobPaid, ledger.DealClaimed, false)
	a = assignmentOf(t, cl, id, liar)
	if a.State != market.StatePaid {
		t.Errorf("client's view of the liar %s, want paid (claimed)", a.State)
	}
	ctx := w.ctx
	if d, _ := cl.journal.Deal(ctx, a.DealID); d.State != ledger.DealClaimed {
		t.Errorf("client's deal of the liar %s, want claimed", d.State)
	}
	if lj, _ := cl.journal.Job(ctx, id.String()); lj.State != ledger.JobAccepted {
		t.Errorf("client's job %s, want accepted", lj.State)
	}
	tot, _ := cl.journal.Totals(ctx)
	three := new(big.Int).Mul(jobPrice, big.NewInt(3))
	if tot.Paid.Cmp(three) != 0 || tot.Refunded.Sign() != 0 {
		t.Errorf("client's totals %+v, want all three paid", tot)
	}
	lt, _ := liar.journal.Totals(ctx)
	if d := delta(w, before[0], liar); d.Cmp(jobPrice) != 0 || lt.Earned.Cmp(jobPrice) != 0 {
		t.Errorf("liar credited %v, earned %v", d, lt.Earned)
	}
	if rep, _ := cl.journal.Reputation(ctx, liar.addr()); rep.Disagreements != 1 {
		t.Errorf("liar's record %+v", rep)
	}
}

// flakyDispute is a client's chain whose dispute transactions go
// through but report an error (a receipt timeout), or (refuse) are not
// sent at all.
type flakyDispute struct {
	*contracts.Client
	refuse bool
}

func (f flakyDispute) Dispute(ctx context.Context, p contracts.DealParams) (*types.Receipt, error) {
	if f.refuse {
		return nil, fmt.Errorf("%w: chain unreachable (test)", contracts.ErrReceiptTimeout)
	}
	if _, err := f.Client.Dispute(ctx, p); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: lost the receipt (test)", contracts.ErrReceiptTimeout)
}

// A dispute whose send reports an error is disputed when the chain has
// it disputed (the mediator then decides as usual), and refused, not
// disputed, when it never landed: the liar then claims after the window
// and both ledgers record the claim, as the chain does.
func TestDisputeSendFails(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(map[bool]string{false: "landed", true: "never sent"}[refuse], func(t *testing.T) {
			w := newWorld(t, 4)
			cl, liar := w.nodes[3], w.nodes[0]
			liar.runner = lyingRunner{liar.exec}
			for _, p := range w.nodes[:3] {
				p.startProvider(market.ProviderConfig{TickInterval: time.Hour})
			}
			cl.startNet()
			c, err := market.NewClient(market.ClientDeps{Net: cl.net, Seal: cl.seal, Content: cl.content,
				Settle: flakyDispute{cl.settle, refuse}, Ledger: cl.journal, Book: cl.book, Logger: quietLogger()},
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
			spec := jobSpec(cl.publishModule(), "f")
			spec.Redundancy = 3
			id, err := c.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Wait(w.ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := c.WaitSettled(w.ctx, id); err != nil { // the majority's accepts follow Wait
				t.Fatal(err)
			}
			a := assignmentOf(t, cl, id, liar)
			if !refuse {
				if a.State != market.StateDisputed {
					t.Fatalf("liar %s (%s), want disputed: the dispute landed", a.State, a.Error)
				}
				j, _ := c.Job(id)
				mediate(t, w, cl, j)
				tick(w, cl, liar)
				if a = assignmentOf(t, cl, id, liar); a.State != market.StateRefunded {
					t.Errorf("liar %s after the ruling, want refunded", a.State)
				}
				checkProviderLedger(t, liar, id, a.DealID, ledger.JobRefunded, ledger.DealResolved, false)
				return
			}
			if a.State != market.StateFailed || !strings.Contains(a.Error, "dispute failed") {
				t.Fatalf("liar %s (%s), want failed: the dispute never landed", a.State, a.Error)
			}
			w.adjustTime(61 * time.Second)
			tick(w, cl, liar)
			tick(w, cl)
			if a = assignmentOf(t, cl, id, liar); a.State != market.StatePaid {
				t.Errorf("liar %s, want paid: it claimed", a.State)
			}
			if d, _ := cl.journal.Deal(w.ctx, a.DealID); d.State != ledger.DealClaimed {
				t.Errorf("client's deal %s, want claimed", d.State)
			}
			checkProviderLedger(t, liar, id, a.DealID, ledger.JobPaid, ledger.DealClaimed, false)
			// Both ledgers agree with the chain: all three paid, nothing back.
			three := new(big.Int).Mul(jobPrice, big.NewInt(3))
			if tot, _ := cl.journal.Totals(w.ctx); tot.Locked.Cmp(three) != 0 || tot.Paid.Cmp(three) != 0 || tot.Refunded.Sign() != 0 {
				t.Errorf("client's totals %+v, want %v locked and paid", tot, three)
			}
			if d := delta(w, before[3], cl); d.Sign() != 0 {
				t.Errorf("client credited %v, want nothing", d)
			}
			lt, _ := liar.journal.Totals(w.ctx)
			if d := delta(w, before[0], liar); d.Cmp(jobPrice) != 0 || lt.Earned.Cmp(jobPrice) != 0 {
				t.Errorf("liar credited %v, earned %v, want %v", d, lt.Earned, jobPrice)
			}
		})
	}
}
