package market_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// TestLateChannelResultCredited: a channel job's run is held up (the
// provider stalls before the sandbox starts) past the client's deadline
// (timeout + ResultMargin). The client asks the provider before crediting
// (a Cancel): the provider has no result yet, so it credits the job and
// stops the run, and the client credits on that answer. The provider's
// record is a credited failure, never a paid result; both channels
// agree, the next job reuses the credited amount, and the chain pays one
// job.
func TestLateChannelResultCredited(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	g := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	prov.runner = g
	sec := raceSlow * time.Second
	prov.startProvider(market.ProviderConfig{ResultMargin: sec, RedeemAmount: big.NewInt(1e18)})
	cl.startClient(market.ClientConfig{ResultMargin: sec})
	cl.waitOffers(1)
	ctx := w.ctx
	before := map[*tnode]*big.Int{prov: w.credits(prov.addr())}
	mod := cl.publishModule()
	spec := jobSpec(mod, "late")
	spec.Resources.Timeout = wire.Duration(sec)
	id1, err := cl.client.Submit(ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(ctx, id1); err == nil {
		t.Fatal("a job with no result in time succeeded")
	}
	j1, _ := cl.client.Job(id1)
	if a := j1.Assigned[0]; a.State != market.StateFailed || !a.Credited {
		t.Fatalf("silent assignment %s credited %v, want failed and credited", a.State, a.Credited)
	}
	close(g.gate) // the run goes on, past the deadline
	pj := waitProviderState(t, prov, id1, market.StateFailed)
	if !pj.Credited || pj.ResultCID != "" || !pj.Stopped {
		t.Fatalf("late provider job %+v: want failed, credited, a failure report", pj)
	}
	if pc := oneChannel(t, prov.journal, ledger.RoleProvider); pc.Charged().Sign() != 0 {
		t.Fatalf("provider channel charged %s after the late result, want 0", pc.Charged())
	}

	// The next job is paid by the credit: the same cumulative voucher.
	id2, err := cl.client.Submit(ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(ctx, id2); err != nil {
		t.Fatal(err)
	}
	j2, _ := cl.client.Job(id2)
	if j2.Assigned[0].Cumulative.Cmp(j1.Assigned[0].Cumulative) != 0 {
		t.Errorf("second voucher %s, want %s (the credit reused)", j2.Assigned[0].Cumulative, j1.Assigned[0].Cumulative)
	}
	waitProviderState(t, prov, id2, market.StatePaid)
	books(t, w, cl, before, map[*tnode]*big.Int{prov: j2.Assigned[0].Price})
}

// TestLateChannelResultWhileClientWaits: the result is past the
// provider's own timeout plus ResultMargin but the client (a longer
// ResultMargin) still waits. The provider never credits a result it
// produced: it delivers it, the client pays it, and both ledgers and
// the chain say one price.
func TestLateChannelResultWhileClientWaits(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	g := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	prov.runner = g
	sec := raceSlow * time.Second
	prov.startProvider(market.ProviderConfig{ResultMargin: sec, RedeemAmount: big.NewInt(1e18)})
	cl.startClient(market.ClientConfig{ResultMargin: raceSlow * time.Minute})
	cl.waitOffers(1)
	ctx := w.ctx
	before := map[*tnode]*big.Int{prov: w.credits(prov.addr())}
	spec := jobSpec(cl.publishModule(), "late")
	spec.Resources.Timeout = wire.Duration(sec)
	id, err := cl.client.Submit(ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	awarded := time.Now()
	waitFor(t, "past the provider's deadline", func() bool { return time.Since(awarded) > 2*sec+sec/2 })
	close(g.gate)
	out, err := cl.client.Wait(ctx, id)
	if err != nil {
		t.Fatalf("a late result the client still waited for was not paid: %v", err)
	}
	if string(out.Stdout) != "args: late\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	j, _ := cl.client.Job(id)
	if a := j.Assigned[0]; a.State != market.StatePaid || a.Credited || j.State != market.StatePaid {
		t.Fatalf("job %s assignment %s credited %v, want paid", j.State, a.State, a.Credited)
	}
	if pj := waitProviderState(t, prov, id, market.StatePaid); pj.Credited {
		t.Errorf("provider job %+v: want paid, not credited", pj)
	}
	books(t, w, cl, before, map[*tnode]*big.Int{prov: j.Assigned[0].Price})
}
