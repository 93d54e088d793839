package market_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestChannelStopCredited: a channel job stopped by the provider's sandbox
// is not charged. Both sides credit its price on the channel in their
// ledgers; the next job's voucher is for the same cumulative amount (the
// credit pays it); and the provider redeems only what the successful jobs
// cost, so the client's channel pays exactly one job.
func TestChannelStopCredited(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{RedeemAmount: new(big.Int).Mul(ether, big.NewInt(1000))}) // redeem only when asked
	cl.startClient(market.ClientConfig{ResultMargin: 10 * time.Second})
	cl.waitOffers(1)
	ctx := w.ctx

	spin, err := cl.content.AddBytes(spinWasm)
	if err != nil {
		t.Fatal(err)
	}
	spec := jobSpec(spin)
	spec.Resources.Timeout = wire.Duration(time.Second)
	id1, err := cl.client.Submit(ctx, spec, market.RunOptions{PayMode: wire.PayChannel})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(ctx, id1); !errors.Is(err, market.ErrStopped) {
		t.Fatalf("err %v, want ErrStopped", err)
	}
	j1, _ := cl.client.Job(id1)
	a1 := j1.Assigned[0]
	if !a1.Stopped || !a1.Credited {
		t.Fatalf("assignment %+v: want stopped and credited", a1)
	}
	waitProviderState(t, prov, id1, market.StateFailed)

	chans := func(l *ledger.Ledger, role ledger.Role) ledger.Channel {
		t.Helper()
		cs, err := l.Channels(ctx, role)
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s channels %+v (%v), want one", role, cs, err)
		}
		return cs[0]
	}
	cc, pc := chans(cl.journal, ledger.RoleClient), chans(prov.journal, ledger.RoleProvider)
	if cc.Charged().Sign() != 0 || pc.Charged().Sign() != 0 {
		t.Fatalf("after the stopped job: client charged %s, provider charged %s, want 0 and 0", cc.Charged(), pc.Charged())
	}
	if cc.Promised.Cmp(a1.Price) != 0 || pc.Promised.Cmp(a1.Price) != 0 {
		t.Fatalf("promised %s / %s, want the first voucher %s", cc.Promised, pc.Promised, a1.Price)
	}

	// The next job is paid by the credit: same cumulative voucher.
	ok := jobSpec(cl.publishModule(), "after")
	ok.Resources.Timeout = spec.Resources.Timeout // the same price
	id2, err := cl.client.Submit(ctx, ok, market.RunOptions{PayMode: wire.PayChannel})
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
	a2 := j2.Assigned[0]
	if a2.Price.Cmp(a1.Price) != 0 || a2.Cumulative.Cmp(a1.Cumulative) != 0 {
		t.Errorf("second voucher %s, want %s (the credit reused)", a2.Cumulative, a1.Cumulative)
	}
	waitProviderState(t, prov, id2, market.StatePaid)

	// Redeem: the provider takes exactly the second job's price.
	before := w.credits(prov.addr())
	prov.provider.RedeemAll(ctx)
	if d := new(big.Int).Sub(w.credits(prov.addr()), before); d.Cmp(a2.Price) != 0 {
		t.Errorf("provider redeemed %s, want one job's price %s", d, a2.Price)
	}
	pc = chans(prov.journal, ledger.RoleProvider)
	if pc.Redeemed.Cmp(a2.Price) != 0 || pc.Unredeemed().Sign() != 0 {
		t.Errorf("provider channel redeemed %s unredeemed %s", pc.Redeemed, pc.Unredeemed())
	}
}
