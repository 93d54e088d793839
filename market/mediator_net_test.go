package market_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// mediatorFee is what the client's deals pay the mediator on a ruling.
var mediatorFee = big.NewInt(7_000_000_000)

// startMediator makes nd a serving mediator (its re-runs counted).
func (nd *tnode) startMediator(cfg market.MediatorConfig) (*market.MediatorService, *countingRunner) {
	return nd.startMediatorWith(cfg, nd.content)
}

func (nd *tnode) startMediatorWith(cfg market.MediatorConfig, content market.Content) (*market.MediatorService, *countingRunner) {
	t := nd.w.t
	if nd.net == nil {
		nd.startNet()
	}
	runs := &countingRunner{Runner: nd.exec}
	if cfg.WorkDir == "" {
		cfg.WorkDir = t.TempDir()
	}
	s, err := market.NewMediatorService(market.MediatorDeps{Net: nd.net, Seal: nd.seal, Content: content, Runner: runs,
		Settle: nd.settle, Ledger: nd.journal, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, runs
}

// mediatedWorld: redundancy 2 escrow, nodes[0] lying, nodes[1] honest,
// a serving mediator at nodes[2] that the deals name and the client at
// nodes[3] (the last node, as checkProviderLedger expects). Settle loops tick hourly: the test drives them.
// clientBrings/providersBring: who knows the mediator's peer ID (and so
// brings the case).
func mediatedWorld(t *testing.T, clientBrings, providersBring bool, mcfg market.MediatorConfig) (w *world, cl, liar, honest, med *tnode, id wire.JobID, runs *countingRunner, before []*big.Int) {
	t.Helper()
	w = newWorld(t, 4)
	liar, honest, med, cl = w.nodes[0], w.nodes[1], w.nodes[2], w.nodes[3]
	_, runs = med.startMediator(mcfg)
	liar.runner = lyingRunner{liar.exec}
	for _, p := range []*tnode{liar, honest} {
		pc := market.ProviderConfig{TickInterval: time.Hour, Mediators: []common.Address{med.addr()}}
		if providersBring {
			pc.MediatorPeers = []peer.ID{med.id()}
		}
		p.startProvider(pc)
	}
	cc := market.ClientConfig{TickInterval: time.Hour, Mediator: med.addr(), MediatorFee: mediatorFee}
	if clientBrings {
		cc.MediatorPeer = med.id()
	}
	cl.startClient(cc)
	cl.waitOffers(2)
	before = credits(w, w.nodes...)
	spec := jobSpec(cl.publishModule(), "m")
	spec.Redundancy = 2
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); !errors.Is(err, market.ErrNoMajority) {
		t.Fatalf("err %v, want ErrNoMajority (one liar of two)", err)
	}
	for _, p := range []*tnode{liar, honest} {
		if a := assignmentOf(t, cl, id, p); a.State != market.StateDisputed {
			t.Fatalf("%s's assignment %s (%s), want disputed", p.id(), a.State, a.Error)
		}
	}
	return w, cl, liar, honest, med, id, runs, before
}

// waitClosed polls the chain until every deal is closed, running a
// settle tick of every node in ticks between polls (a refused or lost
// case is brought again, as the real settle loops would).
func waitClosed(t *testing.T, w *world, ticks []*tnode, deals ...common.Hash) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, d := range deals {
		for {
			st, err := w.mediator.Deal(w.ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status == contracts.DealClosed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deal %s still %s: the mediator did not rule", d, st.Status)
			}
			if len(ticks) > 0 {
				tick(w, ticks[0], ticks[1:]...)
			}
			time.Sleep(20 * time.Millisecond) // polling a real chain, with a deadline
		}
	}
}

// A disputed deal reaches its mediator over the network, whoever brings
// the case: the mediator re-runs the job once per deal, rules for the
// honest provider and against the liar, and every ledger (client, both
// providers, mediator) agrees with the chain to the wei, the mediator's
// fee included.
func TestMediatorOverNetwork(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		clientBrings, providersBring bool
	}{
		{"client brings the case", true, false},
		{"providers bring the case", false, true},
		{"both bring it", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, cl, liar, honest, med, id, runs, before := mediatedWorld(t, tc.clientBrings, tc.providersBring, market.MediatorConfig{})
			deals := []common.Hash{assignmentOf(t, cl, id, liar).DealID, assignmentOf(t, cl, id, honest).DealID}
			tick(w, cl, liar, honest) // the disputes are noticed, the cases brought
			waitClosed(t, w, []*tnode{cl, liar, honest}, deals...)
			tick(w, cl, liar, honest) // the rulings are recorded
			tick(w, cl, liar, honest) // and again: nothing changes
			if n := runs.n.Load(); n != 2 {
				t.Errorf("mediator ran the job %d times, want once per deal (2)", n)
			}
			ctx := w.ctx
			ha, la := assignmentOf(t, cl, id, honest), assignmentOf(t, cl, id, liar)
			if ha.State != market.StatePaid || la.State != market.StateRefunded || !strings.Contains(la.Error, "ruled for the client") {
				t.Errorf("client's assignments: honest %s, liar %s (%s)", ha.State, la.State, la.Error)
			}
			checkProviderLedger(t, honest, id, ha.DealID, ledger.JobPaid, ledger.DealResolved, true)
			checkProviderLedger(t, liar, id, la.DealID, ledger.JobRefunded, ledger.DealResolved, false)
			for _, a := range []market.Assignment{ha, la} {
				d, err := cl.journal.Deal(ctx, a.DealID)
				if err != nil || d.State != ledger.DealResolved || d.ForProvider != (a.Provider == honest.id()) {
					t.Errorf("client's deal %s: %+v (%v)", a.DealID, d, err)
				}
			}
			// Client: price + fee locked per deal; the honest price and
			// both fees paid; the liar's price (+ its collateral, none
			// here) refunded, as credited on chain.
			two := func(x *big.Int) *big.Int { return new(big.Int).Mul(x, big.NewInt(2)) }
			add := func(a, b *big.Int) *big.Int { return new(big.Int).Add(a, b) }
			tot, err := cl.journal.Totals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tot.Locked.Cmp(add(two(jobPrice), two(mediatorFee))) != 0 || tot.Paid.Cmp(add(jobPrice, two(mediatorFee))) != 0 ||
				tot.Refunded.Cmp(jobPrice) != 0 {
				t.Errorf("client's totals locked %v paid %v refunded %v", tot.Locked, tot.Paid, tot.Refunded)
			}
			if d := delta(w, before[3], cl); d.Cmp(tot.Refunded) != 0 {
				t.Errorf("chain credited the client %v, its ledger says refunded %v", d, tot.Refunded)
			}
			ht, _ := honest.journal.Totals(ctx)
			if d := delta(w, before[1], honest); d.Cmp(jobPrice) != 0 || ht.Earned.Cmp(jobPrice) != 0 {
				t.Errorf("honest provider credited %v, earned %v; want %v", d, ht.Earned, jobPrice)
			}
			lt, _ := liar.journal.Totals(ctx)
			if d := delta(w, before[0], liar); d.Sign() != 0 || lt.Earned.Sign() != 0 {
				t.Errorf("liar credited %v, earned %v; want nothing", d, lt.Earned)
			}
			// Mediator: its fee for each ruling, on chain and in its ledger.
			mt, err := med.journal.Totals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d := delta(w, before[2], med); d.Cmp(two(mediatorFee)) != 0 || mt.Earned.Cmp(d) != 0 || mt.Count != 2 {
				t.Errorf("mediator credited %v, its ledger earned %v in %d payments; want %v in 2", d, mt.Earned, mt.Count, two(mediatorFee))
			}
			if rep, _ := cl.journal.Reputation(ctx, honest.addr()); rep.Successes != 1 || rep.Disagreements != 0 {
				t.Errorf("honest provider's record %+v, want the ruling to make it a success", rep)
			}
		})
	}
}

// caseOf builds the case of a's deal, as sender.
func caseOf(sender peer.ID, j *market.Job, a market.Assignment) *wire.MediationCase {
	d := a.Deal
	return &wire.MediationCase{Sender: sender, Deal: wire.DealTerms{Client: d.Client, Provider: d.Provider, Mediator: d.Mediator,
		Price: d.Price, MediatorFee: d.MediatorFee, Collateral: d.Collateral, Deadline: d.Deadline, ChallengeWindow: d.ChallengeWindow,
		JobHash: d.JobHash}, DealID: a.DealID, JobID: j.ID, Spec: j.Spec, Expiry: wire.TimestampOf(time.Now().Add(time.Minute)), Nonce: 1}
}

// ask sends a case (sealed by by) from from's network to the mediator
// and returns the opened reply, or the stream-level refusal.
func ask(t *testing.T, from, med *tnode, sealed []byte) (*wire.MediationReply, error) {
	t.Helper()
	if from.net == nil {
		from.startNet()
	}
	raw, err := from.net.RequestMediation(from.w.ctx, med.id(), sealed)
	if err != nil {
		return nil, err
	}
	m, signer, err := wire.Open(raw, wire.MaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := m.(*wire.MediationReply)
	if !ok || signer != med.id() {
		t.Fatalf("reply %T signed by %s", m, signer)
	}
	return r, nil
}

func mustSeal(t *testing.T, nd *tnode, m wire.Message) []byte {
	t.Helper()
	b, err := nd.seal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Hostile cases get a one-line refusal and change nothing: no re-run, no
// ledger record, the deals still disputed. Then the honest case is
// taken once, and a case brought again after the ruling is answered
// "ruled" with the ruling's transaction.
func TestMediatorRefusesHostileCases(t *testing.T) {
	w, cl, liar, honest, med, id, runs, _ := mediatedWorld(t, false, false, market.MediatorConfig{})
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	la := assignmentOf(t, cl, id, liar)
	good := func() *wire.MediationCase { return caseOf(cl.id(), j, la) }

	type hostile struct {
		name   string
		from   *tnode // whose network sends it
		sealed func() []byte
		want   string // in the refusal
	}
	stranger := honest // a provider of the same job, but not of the liar's deal
	cases := []hostile{
		{"bad signature", cl, func() []byte {
			b := mustSeal(t, cl, good())
			b[len(b)-3] ^= 0xff
			return b
		}, "signature"},
		{"someone else's deal", stranger, func() []byte {
			c := good()
			c.Sender = stranger.id()
			return mustSeal(t, stranger, c)
		}, "neither the deal's client nor its provider"},
		{"another mediator's deal", cl, func() []byte {
			c := good()
			c.Deal.Mediator = w.mediator.Address()
			return mustSeal(t, cl, c)
		}, "names another mediator"},
		{"deal ID of other terms", cl, func() []byte {
			c := good()
			c.Deal.Deadline++
			return mustSeal(t, cl, c)
		}, "deal ID does not match"},
		{"mismatching spec", cl, func() []byte {
			c := good()
			c.Spec.Args = append(c.Spec.Args, "other")
			return mustSeal(t, cl, c)
		}, "job hash"},
		{"non-deterministic job", cl, func() []byte {
			c := good()
			c.Spec.Deterministic = false
			b, _ := wire.Marshal(&c.Spec)
			c.Deal.JobHash = market.JobHash(c.JobID, b)
			c.DealID = cl.settle.DealID(contracts.DealParams{Client: c.Deal.Client, Provider: c.Deal.Provider,
				Mediator: c.Deal.Mediator, Price: c.Deal.Price, MediatorFee: c.Deal.MediatorFee, Collateral: c.Deal.Collateral,
				Deadline: c.Deal.Deadline, ChallengeWindow: c.Deal.ChallengeWindow, JobHash: c.Deal.JobHash})
			return mustSeal(t, cl, c)
		}, "only deterministic jobs"},
		{"not disputed (no such deal)", cl, func() []byte {
			c := good()
			c.Deal.Deadline++
			c.DealID = cl.settle.DealID(contracts.DealParams{Client: c.Deal.Client, Provider: c.Deal.Provider,
				Mediator: c.Deal.Mediator, Price: c.Deal.Price, MediatorFee: c.Deal.MediatorFee, Collateral: c.Deal.Collateral,
				Deadline: c.Deal.Deadline, ChallengeWindow: c.Deal.ChallengeWindow, JobHash: c.Deal.JobHash})
			return mustSeal(t, cl, c)
		}, "not disputed"},
		{"expired", cl, func() []byte {
			c := good()
			c.Expiry = wire.TimestampOf(time.Now().Add(-time.Second))
			b, err := wire.Seal(cl.priv, c)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "expired"},
		{"not a case", cl, func() []byte {
			return mustSeal(t, cl, &wire.Cancel{JobID: id, Sender: cl.id(), Reason: "x"})
		}, "not a mediation case"},
		{"oversized", cl, func() []byte { return make([]byte, wire.MaxCaseSize+1) }, ""},
	}
	for _, h := range cases {
		r, err := ask(t, h.from, med, h.sealed())
		switch {
		case h.want == "" && err == nil:
			t.Errorf("%s: answered %+v, want the stream reset", h.name, r)
		case h.want == "":
		case err != nil && !strings.Contains(err.Error(), h.want):
			t.Errorf("%s: %v, want a refusal saying %q", h.name, err, h.want)
		case err == nil && (r.Status != wire.MediationRefused || !strings.Contains(r.Reason, h.want) || strings.Contains(r.Reason, "\n")):
			t.Errorf("%s: %s %q, want refused saying %q", h.name, r.Status, r.Reason, h.want)
		}
	}
	if n := runs.n.Load(); n != 0 {
		t.Errorf("hostile cases made the mediator run %d jobs", n)
	}
	if tot, _ := med.journal.Totals(w.ctx); tot.Count != 0 {
		t.Errorf("hostile cases wrote %d payments", tot.Count)
	}
	if st, _ := w.mediator.Deal(w.ctx, la.DealID); st.Status != contracts.DealDisputed {
		t.Fatalf("liar's deal %s after hostile cases, want disputed", st.Status)
	}

	// The liar's own case is taken (it is a party), then ruled once.
	lc := good()
	lc.Sender = liar.id()
	r, err := ask(t, liar, med, mustSeal(t, liar, lc))
	if err != nil || r.Status != wire.MediationAccepted {
		t.Fatalf("liar's case: %+v %v, want accepted", r, err)
	}
	waitClosed(t, w, nil, la.DealID)
	r, err = ask(t, cl, med, mustSeal(t, cl, good()))
	if err != nil || r.Status != wire.MediationRuled || r.ForProvider || r.Tx == (common.Hash{}) {
		t.Fatalf("case after the ruling: %+v %v, want ruled for the client with its tx", r, err)
	}
	if n := runs.n.Load(); n != 1 {
		t.Errorf("mediator ran %d times, want once", n)
	}
	mt, _ := med.journal.Totals(w.ctx)
	if mt.Count != 1 || mt.Earned.Cmp(mediatorFee) != 0 {
		t.Errorf("mediator's ledger %d payments, earned %v; want one fee %v", mt.Count, mt.Earned, mediatorFee)
	}
}

// A peer over the case rate limit is refused before its case is opened.
func TestMediatorRateLimit(t *testing.T) {
	w := newWorld(t, 2)
	cl, med := w.nodes[0], w.nodes[1]
	med.startMediator(market.MediatorConfig{Limit: market.AuthorLimit{Rate: 0.001, Burst: 3}})
	junk := mustSeal(t, cl, &wire.Cancel{JobID: wire.JobID{1}, Sender: cl.id()})
	limited := 0
	for range 6 {
		if _, err := ask(t, cl, med, junk); err != nil && strings.Contains(err.Error(), "too many cases") {
			limited++
		}
	}
	if limited != 3 {
		t.Errorf("%d of 6 cases rate limited, want 3 (burst 3)", limited)
	}
}

// noFetch is a mediator that cannot fetch any content.
type noFetch struct{ storeContent }

func (noFetch) Cat(context.Context, string, int64) ([]byte, error) {
	return nil, errors.New("no route to the module (test)")
}

// A mediator that cannot fetch the job's module does not rule (the
// output it would hash says nothing about the provider's): the deal
// stays disputed, no ruling or fee is recorded, and the case can be
// brought again.
func TestMediatorCannotFetchDoesNotRule(t *testing.T) {
	w := newWorld(t, 4)
	liar, honest, med, cl := w.nodes[0], w.nodes[1], w.nodes[2], w.nodes[3]
	svc, _ := med.startMediatorWith(market.MediatorConfig{}, noFetch{med.content})
	liar.runner = lyingRunner{liar.exec}
	for _, p := range []*tnode{liar, honest} {
		p.startProvider(market.ProviderConfig{TickInterval: time.Hour, Mediators: []common.Address{med.addr()}})
	}
	cl.startClient(market.ClientConfig{TickInterval: time.Hour, Mediator: med.addr(), MediatorFee: mediatorFee})
	cl.waitOffers(2)
	spec := jobSpec(cl.publishModule(), "n")
	spec.Redundancy = 2
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); !errors.Is(err, market.ErrNoMajority) {
		t.Fatalf("err %v, want ErrNoMajority", err)
	}
	j, _ := cl.client.Job(id)
	la := assignmentOf(t, cl, id, liar)
	r, err := ask(t, cl, med, mustSeal(t, cl, caseOf(cl.id(), j, la)))
	if err != nil || r.Status != wire.MediationAccepted {
		t.Fatalf("case: %+v %v, want accepted", r, err)
	}
	svc.Close() // waits for the re-run attempt
	if st, _ := w.mediator.Deal(w.ctx, la.DealID); st.Status != contracts.DealDisputed {
		t.Errorf("deal %s, want still disputed: no ruling without a re-run", st.Status)
	}
	if seen, _ := med.journal.Seen(w.ctx, "mediate/"+la.DealID.Hex(), "client"); seen {
		t.Error("a ruling was recorded without a re-run")
	}
	if tot, _ := med.journal.Totals(w.ctx); tot.Count != 0 {
		t.Errorf("%d payments recorded", tot.Count)
	}
}
