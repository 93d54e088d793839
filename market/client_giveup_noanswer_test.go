package market_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestAwardNoAnswer: an award gets no answer at all (the stream is reset
// after the provider took it, or before it reached the provider). The
// client keeps the assignment awarded (payAndAward's no-answer path) and
// the job ends paid when the provider has the award, or, when it never
// got it, failed with the escrow refunded after the deal deadline or the
// channel price credited, in both pay modes; both ledgers agree with the
// chain to the wei.
func TestAwardNoAnswer(t *testing.T) {
	for _, mode := range []wire.PayMode{wire.PayEscrow, wire.PayChannel} {
		for _, reached := range []bool{true, false} {
			name := string(mode) + map[bool]string{true: "/taken", false: "/lost"}[reached]
			t.Run(name, func(t *testing.T) {
				awardNoAnswer(t, mode, reached)
			})
		}
	}
}

func awardNoAnswer(t *testing.T, mode wire.PayMode, reached bool) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	margin := 2 * time.Second // the client's; the provider's is a second less
	if raceOn {
		margin = 15 * time.Second
	}
	prov.startProvider(market.ProviderConfig{ResultMargin: margin - time.Second, RedeemAmount: big.NewInt(1e18)})
	cl.startNet()
	fn := &filterNet{Network: cl.net}
	if reached {
		fn.lose = isType(wire.TypeAward)
	} else {
		fn.drop = isType(wire.TypeAward)
	}
	cl.startClientOn(fn, market.ClientConfig{ResultMargin: margin})
	cl.waitOffers(1)
	ctx := w.ctx
	before := map[*tnode]*big.Int{prov: w.credits(prov.addr())}
	mod := cl.publishModule()
	spec := jobSpec(mod, "noanswer")
	spec.Resources.Timeout = wire.Duration(time.Second)
	id, err := cl.client.Submit(ctx, spec, market.RunOptions{PayMode: mode, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(ctx, id)
	if fn.dropped.Load() != 1 {
		t.Fatalf("%d awards lost, want 1", fn.dropped.Load())
	}
	j, _ := cl.client.Job(id)
	a := j.Assigned[0]
	if reached {
		if err != nil {
			t.Fatal(err)
		}
		if string(out.Stdout) != "args: noanswer\n" {
			t.Fatalf("stdout %q", out.Stdout)
		}
		// An escrow job may be verified first and accepted on chain just after.
		j = waitClientJob(t, cl, id, "job paid", func(j *market.Job) bool {
			return j.State == market.StatePaid && j.Assigned[0].State == market.StatePaid
		})
		a = j.Assigned[0]
		waitProviderState(t, prov, id, market.StatePaid)
		if mode == wire.PayChannel {
			books(t, w, cl, before, map[*tnode]*big.Int{prov: a.Price})
			return
		}
		if d := delta(w, before[prov], prov); d.Cmp(a.Price) != 0 {
			t.Errorf("provider got %s on chain, want %s", d, a.Price)
		}
		escrowBooks(t, cl, prov, a.Price, new(big.Int))
		return
	}
	if !errors.Is(err, market.ErrNoResult) {
		t.Fatalf("err %v, want ErrNoResult", err)
	}
	if j.State == market.StatePaid || a.State == market.StatePaid {
		t.Fatalf("job %s assignment %s, want not paid", j.State, a.State)
	}
	if pj, err := prov.provider.Jobs(); err != nil || len(pj) != 0 {
		t.Fatalf("provider jobs %+v (%v), want none: it never got the award", pj, err)
	}
	if mode == wire.PayChannel {
		if !a.Credited || a.State != market.StateFailed {
			t.Fatalf("assignment %s credited %v, want failed and credited", a.State, a.Credited)
		}
		if cc := oneChannel(t, cl.journal, ledger.RoleClient); cc.Charged().Sign() != 0 {
			t.Errorf("client channel charged %s, want 0", cc.Charged())
		}
		// The next job (its award answered) reuses the credited amount.
		fn.off.Store(true)
		id2, err := cl.client.Submit(ctx, spec, market.RunOptions{PayMode: mode, Providers: []peer.ID{prov.id()}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.client.Wait(ctx, id2); err != nil {
			t.Fatal(err)
		}
		j2, _ := cl.client.Job(id2)
		if j2.Assigned[0].Cumulative.Cmp(a.Cumulative) != 0 {
			t.Errorf("second voucher %s, want %s (the credit reused)", j2.Assigned[0].Cumulative, a.Cumulative)
		}
		waitProviderState(t, prov, id2, market.StatePaid)
		books(t, w, cl, before, map[*tnode]*big.Int{prov: j2.Assigned[0].Price})
		return
	}
	// Escrow: refunded once the chain passes the deal deadline.
	head, err := w.chain.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Deal.Deadline >= head.Time {
		w.adjustTime(time.Duration(a.Deal.Deadline-head.Time+2) * time.Second)
	}
	j = waitClientJob(t, cl, id, "escrow refunded", func(j *market.Job) bool { return j.Assigned[0].State == market.StateRefunded })
	st, err := cl.settle.Deal(ctx, a.DealID)
	if err != nil || st.Status != contracts.DealClosed {
		t.Errorf("deal %v (%v), want closed", st.Status, err)
	}
	if d := delta(w, before[prov], prov); d.Sign() != 0 {
		t.Errorf("provider got %s on chain, want 0", d)
	}
	escrowBooks(t, cl, prov, new(big.Int), a.Price)
	if lj, err := cl.journal.Job(ctx, id.String()); err != nil || !lj.Terminal() {
		t.Errorf("client ledger job %s (%v), want terminal", lj.State, err)
	}
}

// escrowBooks checks the client's ledger paid and got refunded what the
// chain did, and the provider's earned matches the payment.
func escrowBooks(t *testing.T, cl, prov *tnode, paid, refunded *big.Int) {
	t.Helper()
	ctx := cl.w.ctx
	tot, err := cl.journal.Totals(ctx)
	if err != nil || tot.Paid.Cmp(paid) != 0 || tot.Refunded.Cmp(refunded) != 0 {
		t.Errorf("client ledger paid %v refunded %v (%v), want %s and %s", tot.Paid, tot.Refunded, err, paid, refunded)
	}
	waitFor(t, "provider earnings recorded", func() bool {
		pt, err := prov.journal.Totals(ctx)
		return err == nil && pt.Earned.Cmp(paid) == 0
	})
}
