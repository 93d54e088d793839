package market_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// A provider never credits a channel result it produced, and a client
// asks before crediting a silent assignment (docs/rationale/market.md,
// "Why does a provider never credit a channel result it produced?").

// startStoppable starts a provider on nd's ledger over net and returns it
// with a func that stops it as a SIGKILL would (its goroutines gone, its
// ledger kept).
func startStoppable(t *testing.T, nd *tnode, net market.Network, cfg market.ProviderConfig) (*market.Provider, func()) {
	t.Helper()
	if cfg.Price.PerJob == nil {
		cfg.Price = testPrice
	}
	cfg.TickInterval, cfg.OfferInterval, cfg.WorkDir = 50*time.Millisecond, time.Second, t.TempDir()
	p, err := market.NewProvider(market.ProviderDeps{Net: net, Seal: nd.seal, Content: nd.content, Runner: nd.runner,
		Settle: nd.settle, Ledger: nd.journal, Book: nd.book, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.provider = p
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); p.Close(); <-done }) }
	t.Cleanup(stop)
	return p, stop
}

// TestHostileClientNeverAcks: a client takes a channel job's result and
// never acknowledges it (every delivery's stream is reset after the
// result was read). Past the provider's own deadline (timeout plus its
// ResultMargin) the provider still does not credit it: it keeps the job
// charged, refuses the client's Cancel ("already has a result"), refuses
// the client's next voucher lowered by the price ("does not cover"), and
// redeems the voucher it holds: the chain pays it the job to the wei.
func TestHostileClientNeverAcks(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	sec := raceSlow * time.Second
	prov.startProvider(market.ProviderConfig{ResultMargin: sec, RedeemAmount: big.NewInt(1e18)})
	cl.startNet()
	ctx := w.ctx
	var got atomic.Int32 // results read and not acknowledged
	var lastAt atomic.Int64
	cl.h.SetStreamHandler(protocol.ID(wire.MarketProtocol), func(s network.Stream) {
		data, _ := io.ReadAll(io.LimitReader(s, wire.MaxJobSize))
		_ = s.Reset() // read it all, answer nothing
		if len(data) < 2 {
			return
		}
		n, k := binary.Uvarint(data[1:])
		if k <= 0 || uint64(len(data)-1-k) < n {
			return
		}
		if msg, _, err := wire.Open(data[1+k:1+k+int(n)], wire.MaxMessageSize); err == nil && msg.Type() == wire.TypeResult {
			if r := msg.(*wire.Result); r.ResultCID != "" {
				got.Add(1)
				lastAt.Store(time.Now().UnixNano())
			}
		}
	})
	spec := jobSpec(cl.publishModule(), "hostile")
	spec.Resources.Timeout = wire.Duration(sec)
	deposit := new(big.Int).Mul(jobPrice, big.NewInt(10))
	key, _, err := cl.settle.OpenChannel(ctx, prov.addr(), common.HexToHash("0x0a"), deposit)
	if err != nil {
		t.Fatal(err)
	}
	before := w.credits(prov.addr())
	award := func(bid *wire.Bid, cum *big.Int) *wire.Award {
		v, err := cl.settle.SignVoucher(key, cum)
		if err != nil {
			t.Fatal(err)
		}
		return &wire.Award{JobID: bid.JobID, Price: bid.Price, PayMode: wire.PayChannel,
			Voucher: &wire.Voucher{ChannelID: key.ID(), Cumulative: cum, Signature: v.Signature}}
	}
	_, bid := bidFor(t, cl, prov, spec, wire.PayChannel)
	price := bid.Price
	if err := sendAward(t, cl, prov, award(bid, price)); err != nil {
		t.Fatal(err)
	}
	awarded := time.Now()
	// Delivered, unacknowledged, again after the provider's deadline
	// (timeout + ResultMargin): a provider that credited late results
	// would have done so by the attempt after it.
	cutoff := awarded.Add(2*sec + sec/2)
	waitFor(t, "a delivery attempt past the provider's deadline, and one more", func() bool {
		return got.Load() >= 2 && time.Unix(0, lastAt.Load()).After(cutoff.Add(sec))
	})
	pj := waitProviderState(t, prov, bid.JobID, market.StateSubmitted)
	if pj.Credited || pj.ResultCID == "" {
		t.Fatalf("provider job %+v: want its result kept, not credited", pj)
	}
	if pc := oneChannel(t, prov.journal, ledger.RoleProvider); pc.Charged().Cmp(price) != 0 {
		t.Fatalf("provider channel charged %s, want the job's %s", pc.Charged(), price)
	}

	// The client cancels the job it has the result of: refused.
	sealed, err := cl.seal(&wire.Cancel{JobID: bid.JobID, Sender: cl.id(), Expiry: wire.TimestampOf(time.Now().Add(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.net.Request(ctx, prov.id(), sealed); !contains(err, "already has a result") {
		t.Fatalf("cancel of a job with a result: err %v, want refused", err)
	}
	// The next voucher as if the job were credited: refused.
	_, bid2 := bidFor(t, cl, prov, spec, wire.PayChannel)
	if err := sendAward(t, cl, prov, award(bid2, bid2.Price)); !contains(err, "does not cover") {
		t.Fatalf("lowered voucher: err %v, want refused as not covering the total", err)
	}
	if pj := waitProviderState(t, prov, bid.JobID, market.StateSubmitted); pj.Credited {
		t.Fatalf("provider job %+v credited after the client's cancel", pj)
	}
	prov.provider.RedeemAll(ctx)
	if d := delta(w, before, prov); d.Cmp(price) != 0 {
		t.Errorf("provider redeemed %s on chain, want the job's %s", d, price)
	}
	oc, err := cl.settle.Channel(ctx, key.ID())
	if err != nil || oc.Redeemed.Cmp(price) != 0 {
		t.Errorf("channel redeemed %v on chain (%v), want %s", oc.Redeemed, err, price)
	}
}

// TestChannelResultLostAskedAtDeadline: an honest client never receives
// a channel result (every delivery is lost on the way). At its deadline
// it asks the provider before crediting; the provider, which has the
// result, refuses to credit and delivers it again; the client records
// the result, verifies it and pays it. The provider never credits it,
// though its own deadline passed long before. Both ledgers agree with
// the chain.
func TestChannelResultLostAskedAtDeadline(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	sec := raceSlow * time.Second
	prov.startNet()
	pn := &filterNet{Network: prov.net, drop: isType(wire.TypeResult)} // results lost until the client asks
	prov.startProviderOn(pn, market.ProviderConfig{ResultMargin: sec, RedeemAmount: big.NewInt(1e18)})
	cl.startNet()
	var asked atomic.Bool
	cn := &filterNet{Network: cl.net, before: func(m wire.Message) {
		if m.Type() == wire.TypeCancel {
			asked.Store(true)
			pn.off.Store(true)
		}
	}}
	cl.startClientOn(cn, market.ClientConfig{ResultMargin: 2 * sec})
	cl.waitOffers(1)
	before := map[*tnode]*big.Int{prov: w.credits(prov.addr())}
	spec := jobSpec(cl.publishModule(), "lost")
	spec.Resources.Timeout = wire.Duration(sec)
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = cl.client.Wait(w.ctx, id) // the wait ends with no result; the ask then brings it
	j := waitClientJob(t, cl, id, "the lost result paid", func(j *market.Job) bool { return j.State == market.StatePaid })
	if a := j.Assigned[0]; a.State != market.StatePaid || a.Credited || !asked.Load() || pn.dropped.Load() == 0 {
		t.Fatalf("assignment %s credited %v (asked %v, results lost %d), want paid after an ask", a.State, a.Credited, asked.Load(), pn.dropped.Load())
	}
	if pj := waitProviderState(t, prov, id, market.StatePaid); pj.Credited {
		t.Fatalf("provider job %+v: want paid, not credited", pj)
	}
	if lj, err := cl.journal.Job(w.ctx, id.String()); err != nil || !lj.Terminal() {
		t.Errorf("client ledger job %s (%v), want terminal", lj.State, err)
	}
	books(t, w, cl, before, map[*tnode]*big.Int{prov: j.Assigned[0].Price})
}

// TestProviderUnreachableComesBackWithResult: the provider has the
// result (its deliveries lost) and is then stopped; the client's
// deadline passes while it cannot be reached. The client does not credit
// the job: it stays open (charged on the channel, unpaid in the ledger,
// not terminal). The provider comes back with the same ledger and
// delivers the result; the client pays it, and both ledgers agree with
// the chain.
func TestProviderUnreachableComesBackWithResult(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	sec := raceSlow * time.Second
	prov.startNet()
	pn := &filterNet{Network: prov.net, drop: isType(wire.TypeResult)}
	cfg := market.ProviderConfig{ResultMargin: sec, RedeemAmount: big.NewInt(1e18)}
	_, stop1 := startStoppable(t, prov, pn, cfg)
	cl.startNet()
	cn := &filterNet{Network: cl.net, drop: isType(wire.TypeCancel)} // the provider cannot be reached
	cl.startClientOn(cn, market.ClientConfig{ResultMargin: sec})
	cl.waitOffers(1)
	before := map[*tnode]*big.Int{prov: w.credits(prov.addr())}
	spec := jobSpec(cl.publishModule(), "back")
	spec.Resources.Timeout = wire.Duration(sec)
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	waitProviderState(t, prov, id, market.StateSubmitted)
	stop1()
	if _, err := cl.client.Wait(w.ctx, id); err == nil {
		t.Fatal("a job with no result succeeded")
	}
	waitFor(t, "the client asked at least twice", func() bool { return cn.dropped.Load() >= 2 })
	j, _ := cl.client.Job(id)
	if a := j.Assigned[0]; a.State != market.StateAwarded || a.Credited {
		t.Fatalf("unreachable provider's assignment %s credited %v, want open", a.State, a.Credited)
	}
	if lj, err := cl.journal.Job(w.ctx, id.String()); err != nil || lj.Terminal() {
		t.Fatalf("client ledger job %s (%v), want open", lj.State, err)
	}
	if cc := oneChannel(t, cl.journal, ledger.RoleClient); cc.Charged().Cmp(j.Assigned[0].Price) != 0 {
		t.Fatalf("client channel charged %s, want the open voucher %s", cc.Charged(), j.Assigned[0].Price)
	}
	if tot, err := cl.journal.Totals(w.ctx); err != nil || tot.Paid.Sign() != 0 {
		t.Fatalf("client ledger paid %v (%v), want 0 while open", tot.Paid, err)
	}
	// Back, reachable, same ledger: recovery delivers the result.
	cn.off.Store(true)
	startStoppable(t, prov, prov.net, cfg)
	j = waitClientJob(t, cl, id, "the result paid", func(j *market.Job) bool { return j.State == market.StatePaid })
	if a := j.Assigned[0]; a.State != market.StatePaid || a.Credited {
		t.Fatalf("assignment %s credited %v, want paid", a.State, a.Credited)
	}
	waitProviderState(t, prov, id, market.StatePaid)
	books(t, w, cl, before, map[*tnode]*big.Int{prov: j.Assigned[0].Price})
}

// TestCancelStopsRecoveredRun: a channel job's run (execute's path: the
// job recovered after a provider restart) is stopped at once by the
// client's Cancel, its sandbox never let go: the job ends failed and
// credited, "cancelled by the client", and the channel charges nothing.
func TestCancelStopsRecoveredRun(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startNet()
	g1 := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	prov.runner = g1
	cfg := market.ProviderConfig{ResultMargin: time.Minute, RedeemAmount: big.NewInt(1e18)}
	_, stop1 := startStoppable(t, prov, prov.net, cfg)
	cl.startNet()
	ctx := w.ctx
	spec := jobSpec(cl.publishModule(), "stopped")
	key, _, err := cl.settle.OpenChannel(ctx, prov.addr(), common.HexToHash("0x0b"), new(big.Int).Mul(jobPrice, big.NewInt(10)))
	if err != nil {
		t.Fatal(err)
	}
	_, bid := bidFor(t, cl, prov, spec, wire.PayChannel)
	v, err := cl.settle.SignVoucher(key, bid.Price)
	if err != nil {
		t.Fatal(err)
	}
	if err := sendAward(t, cl, prov, &wire.Award{JobID: bid.JobID, Price: bid.Price, PayMode: wire.PayChannel,
		Voucher: &wire.Voucher{ChannelID: key.ID(), Cumulative: bid.Price, Signature: v.Signature}}); err != nil {
		t.Fatal(err)
	}
	<-g1.started
	stop1() // the job stays awarded in the ledger
	g2 := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	defer close(g2.gate)
	prov.runner = g2
	startStoppable(t, prov, prov.net, cfg)
	select {
	case <-g2.started: // recovery runs it again
	case <-time.After(30 * time.Second):
		t.Fatal("the recovered job never started")
	}
	sealed, err := cl.seal(&wire.Cancel{JobID: bid.JobID, Sender: cl.id(), Expiry: wire.TimestampOf(time.Now().Add(time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := cl.net.Request(ctx, prov.id(), sealed)
	if err != nil || string(reply) != "credited" {
		t.Fatalf("cancel: reply %q err %v, want credited", reply, err)
	}
	pj := waitProviderState(t, prov, bid.JobID, market.StateFailed) // its gate still shut
	if !pj.Credited || pj.ResultCID != "" || !contains(errors.New(pj.Error), "cancelled by the client") {
		t.Fatalf("provider job %+v: want failed, credited, cancelled", pj)
	}
	if pc := oneChannel(t, prov.journal, ledger.RoleProvider); pc.Charged().Sign() != 0 {
		t.Fatalf("provider channel charged %s, want 0", pc.Charged())
	}
}
