package market_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// Channel money when the client gives up on a provider before the job's
// deadline (RunOptions.ResultTimeout, then a retry round), and when a
// channel result comes after the deadline (docs/rationale/market.md, "Why
// does a client that gives up early cancel a channel job?", "Why does a
// late channel result become a credit?").

// filterNet is a client's network that loses some of its requests: a
// message drop selects is not sent (an error as a reset stream would
// give); one lose selects is sent but its answer is lost.
type filterNet struct {
	market.Network
	drop, lose func(wire.Message) bool
	dropped    atomic.Int32
	off        atomic.Bool // lose nothing from now on
	// before, when set, sees every request before it is sent; after sees
	// every answered one.
	before func(m wire.Message)
	after  func(m wire.Message, reply []byte, err error)
}

var errLost = errors.New("test: stream reset, no answer")

func (n *filterNet) Request(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error) {
	if n.off.Load() {
		return n.Network.Request(ctx, p, sealed)
	}
	msg, _, err := wire.Open(sealed, wire.MaxJobSize)
	if err == nil && n.before != nil {
		n.before(msg)
	}
	if err == nil && n.drop != nil && n.drop(msg) {
		n.dropped.Add(1)
		return nil, errLost
	}
	reply, err := n.Network.Request(ctx, p, sealed)
	if n.after != nil && msg != nil {
		n.after(msg, reply, err)
	}
	if err == nil && n.lose != nil && n.lose(msg) {
		n.dropped.Add(1)
		return nil, errLost
	}
	return reply, err
}

func isType(t wire.Type) func(wire.Message) bool {
	return func(m wire.Message) bool { return m.Type() == t }
}

// startClientOn is tnode.startClient with the client's requests going
// through net.
func (nd *tnode) startClientOn(net market.Network, cfg market.ClientConfig) {
	t := nd.w.t
	if cfg.BidWait == 0 {
		cfg.BidWait = 3 * time.Second
	}
	if cfg.TickInterval == 0 {
		cfg.TickInterval = 50 * time.Millisecond
	}
	cfg.WorkDir = t.TempDir()
	c, err := market.NewClient(market.ClientDeps{Net: net, Seal: nd.seal, Content: nd.content, Settle: nd.settle,
		Ledger: nd.journal, Book: nd.book, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.client = c
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close(); <-done })
}

// oneChannel returns l's only channel in role.
func oneChannel(t *testing.T, l *ledger.Ledger, role ledger.Role) ledger.Channel {
	t.Helper()
	cs, err := l.Channels(context.Background(), role)
	if err != nil || len(cs) != 1 {
		t.Fatalf("%s channels %+v (%v), want one", role, cs, err)
	}
	return cs[0]
}

// books checks that the client's ledger paid want in all, that each
// provider earned (ledger) and redeemed (chain) exactly its share, and
// that the client's and each provider's channel agree on what was charged.
func books(t *testing.T, w *world, cl *tnode, before map[*tnode]*big.Int, earned map[*tnode]*big.Int) {
	t.Helper()
	ctx := w.ctx
	total := new(big.Int)
	for nd, want := range earned {
		total.Add(total, want)
		nd.provider.RedeemAll(ctx)
		if d := delta(w, before[nd], nd); d.Cmp(want) != 0 {
			t.Errorf("provider %s redeemed %s on chain, want %s", nd.addr(), d, want)
		}
		tot, err := nd.journal.Totals(ctx)
		if err != nil || tot.Earned.Cmp(want) != 0 {
			t.Errorf("provider %s ledger earned %v (%v), want %s", nd.addr(), tot.Earned, err, want)
		}
		cs, err := nd.journal.Channels(ctx, ledger.RoleProvider)
		if err != nil {
			t.Fatal(err)
		}
		for _, pc := range cs {
			cc, err := cl.journal.Channel(ctx, pc.ID)
			if err != nil {
				t.Fatalf("client has no channel %s: %v", pc.ID, err)
			}
			if cc.Charged().Cmp(pc.Charged()) != 0 {
				t.Errorf("channel to %s: client charged %s, provider charged %s", nd.addr(), cc.Charged(), pc.Charged())
			}
			if pc.Charged().Cmp(want) != 0 {
				t.Errorf("channel to %s charged %s, want %s", nd.addr(), pc.Charged(), want)
			}
		}
	}
	tot, err := cl.journal.Totals(ctx)
	if err != nil || tot.Paid.Cmp(total) != 0 {
		t.Errorf("client ledger paid %v (%v), want %s", tot.Paid, err, total)
	}
}

// retryWorld is a slow provider (cheaper, so it is awarded first; its
// runs wait for gate), a good one and a client on a network net wraps.
type retryWorld struct {
	w              *world
	slow, good, cl *tnode
	gate           gatedRunner
	before         map[*tnode]*big.Int
}

func newRetryWorld(t *testing.T, slowMargin, clientMargin time.Duration, wrap func(market.Network) market.Network) *retryWorld {
	w := newWorld(t, 3)
	rw := &retryWorld{w: w, slow: w.nodes[0], good: w.nodes[1], cl: w.nodes[2]}
	rw.gate = gatedRunner{Runner: rw.slow.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	rw.slow.runner = rw.gate
	cheap := wire.PriceSchedule{PerJob: big.NewInt(500_000_000_000), Tiers: testPrice.Tiers}
	big1 := big.NewInt(1e18) // never redeem on its own: the test redeems
	rw.slow.startProvider(market.ProviderConfig{Price: cheap, ResultMargin: slowMargin, RedeemAmount: big1})
	rw.good.startProvider(market.ProviderConfig{RedeemAmount: big1})
	rw.cl.startNet()
	rw.cl.startClientOn(wrap(rw.cl.net), market.ClientConfig{ResultMargin: clientMargin})
	rw.cl.waitOffers(2)
	rw.before = map[*tnode]*big.Int{rw.slow: w.credits(rw.slow.addr()), rw.good: w.credits(rw.good.addr())}
	return rw
}

// run submits a channel job with one retry and a short ResultTimeout and
// waits for it to end paid by the good provider.
func (rw *retryWorld) run(t *testing.T, timeout time.Duration) *market.Job {
	t.Helper()
	spec := jobSpec(rw.cl.publishModule(), "giveup")
	spec.Resources.Timeout = wire.Duration(timeout)
	wait := time.Second
	if raceOn {
		wait = 15 * time.Second
	}
	id, err := rw.cl.client.Submit(rw.w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Retry: 1, ResultTimeout: wait,
		Providers: []peer.ID{rw.slow.id()}}) // the retry finds the good one by gossip
	if err != nil {
		t.Fatal(err)
	}
	out, err := rw.cl.client.Wait(rw.w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "args: giveup\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	j, _ := rw.cl.client.Job(id)
	if len(j.Assigned) != 2 || j.Assigned[0].Provider != rw.slow.id() || j.Assigned[1].State != market.StatePaid {
		t.Fatalf("assignments %+v: want the slow one given up, the good one paid", j.Assigned)
	}
	return j
}

// waitClientJob polls the client's record of id until ok holds.
func waitClientJob(t *testing.T, cl *tnode, id wire.JobID, what string, ok func(*market.Job) bool) *market.Job {
	t.Helper()
	var j *market.Job
	waitFor(t, what, func() bool {
		var err error
		j, err = cl.client.Job(id)
		return err == nil && ok(j)
	})
	return j
}

// TestGiveUpChannelCancelled: the client gives up on a silent channel
// provider after ResultTimeout, well before the job's deadline, and
// re-awards the job. Its Cancel reaches the provider, which credits the
// job at once; the client credits it too and pays only the second
// provider. The cancel also stops the first provider's run at once (its
// gate never opens): it reports a credited failure, not a paid result,
// and both ledgers and the chain say one price, paid to the second
// provider.
func TestGiveUpChannelCancelled(t *testing.T) {
	rw := newRetryWorld(t, 30*time.Second, 30*time.Second, func(n market.Network) market.Network { return n })
	j := rw.run(t, 5*time.Second)
	a := j.Assigned[0]
	if a.State != market.StateFailed || !a.Credited {
		t.Fatalf("given-up assignment %s credited %v (%s), want failed and credited", a.State, a.Credited, a.Error)
	}
	if j.Paid.Cmp(j.Assigned[1].Price) != 0 {
		t.Errorf("job paid %s, want the good provider's %s", j.Paid, j.Assigned[1].Price)
	}
	// The slow run is stopped by the cancel, its gate still shut.
	pj := waitProviderState(t, rw.slow, j.ID, market.StateFailed)
	if !pj.Credited || pj.ResultCID != "" || !strings.Contains(pj.Error, "cancelled by the client") {
		t.Errorf("slow provider's job %+v: want failed, credited, no result, cancelled", pj)
	}
	close(rw.gate.gate)
	waitProviderState(t, rw.good, j.ID, market.StatePaid)
	lj, err := rw.cl.journal.Job(rw.w.ctx, j.ID.String())
	if err != nil || !lj.Terminal() {
		t.Errorf("client ledger job %s (%v), want terminal", lj.State, err)
	}
	books(t, rw.w, rw.cl, rw.before, map[*tnode]*big.Int{rw.slow: new(big.Int), rw.good: j.Assigned[1].Price})
}

// TestGiveUpChannelUnconfirmedPaid: the Cancel is lost, so the given-up
// assignment stays open; the slow provider then delivers within its
// deadline. The client, whose job already ended paid by the second
// provider, records the late result, verifies it and pays it: the job ran
// twice and was paid twice, and both ledgers and the chain say so.
func TestGiveUpChannelUnconfirmedPaid(t *testing.T) {
	var fn *filterNet
	rw := newRetryWorld(t, 30*time.Second, 30*time.Second, func(n market.Network) market.Network {
		fn = &filterNet{Network: n, drop: isType(wire.TypeCancel)}
		return fn
	})
	j := rw.run(t, 5*time.Second)
	if a := j.Assigned[0]; a.State != market.StateAwarded || a.Credited || fn.dropped.Load() == 0 {
		t.Fatalf("given-up assignment %s credited %v (cancels lost %d), want awarded and open", a.State, a.Credited, fn.dropped.Load())
	}
	if lj, err := rw.cl.journal.Job(rw.w.ctx, j.ID.String()); err != nil || lj.Terminal() {
		t.Fatalf("client ledger job %s (%v), want not terminal while a voucher is open", lj.State, err)
	}
	close(rw.gate.gate)
	waitProviderState(t, rw.slow, j.ID, market.StatePaid)
	j = waitClientJob(t, rw.cl, j.ID, "late result paid", func(j *market.Job) bool { return j.Assigned[0].State == market.StatePaid })
	sum := new(big.Int).Add(j.Assigned[0].Price, j.Assigned[1].Price)
	if j.State != market.StatePaid || j.Paid.Cmp(sum) != 0 {
		t.Errorf("job %s paid %s, want paid %s (both providers)", j.State, j.Paid, sum)
	}
	lj, err := rw.cl.journal.Job(rw.w.ctx, j.ID.String())
	if err != nil || !lj.Terminal() {
		t.Errorf("client ledger job %s (%v), want terminal", lj.State, err)
	}
	books(t, rw.w, rw.cl, rw.before, map[*tnode]*big.Int{rw.slow: j.Assigned[0].Price, rw.good: j.Assigned[1].Price})
}

// TestGiveUpChannelUnconfirmedSilent: the give-up Cancel is lost, so the
// given-up assignment stays open. Once the job's full deadline has
// passed, the client asks the provider again (the deadline's Cancel goes
// through): the slow provider still has no result, so it credits the job
// and stops its run, and the client credits the open assignment on that
// answer. Neither side charges the job.
func TestGiveUpChannelUnconfirmedSilent(t *testing.T) {
	sec := raceSlow * time.Second // run's ResultTimeout (15 s under race) stays shorter than the job's timeout
	var fn *filterNet
	rw := newRetryWorld(t, sec, 2*sec, func(n market.Network) market.Network {
		fn = &filterNet{Network: n, drop: isType(wire.TypeCancel)}
		return fn
	})
	j := rw.run(t, 2*sec)
	if a := j.Assigned[0]; a.State != market.StateAwarded || a.Credited {
		t.Fatalf("given-up assignment %s credited %v, want open", a.State, a.Credited)
	}
	fn.off.Store(true) // the deadline's ask reaches the provider
	j = waitClientJob(t, rw.cl, j.ID, "given-up assignment credited", func(j *market.Job) bool { return j.Assigned[0].Credited })
	if a := j.Assigned[0]; a.State != market.StateFailed {
		t.Fatalf("given-up assignment %s, want failed and credited", a.State)
	}
	if j.State != market.StatePaid || j.Paid.Cmp(j.Assigned[1].Price) != 0 {
		t.Errorf("job %s paid %s, want paid %s", j.State, j.Paid, j.Assigned[1].Price)
	}
	pj := waitProviderState(t, rw.slow, j.ID, market.StateFailed) // its run stopped by the ask
	if !pj.Credited || pj.ResultCID != "" {
		t.Errorf("slow provider's job %+v: want failed, credited, no result", pj)
	}
	close(rw.gate.gate)
	books(t, rw.w, rw.cl, rw.before, map[*tnode]*big.Int{rw.slow: new(big.Int), rw.good: j.Assigned[1].Price})
}

// TestChannelDisagreementPaid: with redundancy 2 and one forged output
// there is no majority; the job fails, but both providers delivered a
// result on a voucher they hold and count paid, and the chain pays them.
// The client's ledger records both payments too (it used to record none:
// its Paid fell short of what the chain redeemed).
func TestChannelDisagreementPaid(t *testing.T) {
	w := newWorld(t, 3)
	liar, honest, cl := w.nodes[0], w.nodes[1], w.nodes[2]
	liar.runner = lyingRunner{liar.exec}
	big1 := big.NewInt(1e18)
	liar.startProvider(market.ProviderConfig{RedeemAmount: big1})
	honest.startProvider(market.ProviderConfig{RedeemAmount: big1})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(2)
	before := map[*tnode]*big.Int{liar: w.credits(liar.addr()), honest: w.credits(honest.addr())}
	spec := jobSpec(cl.publishModule(), "split")
	spec.Redundancy = 2
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{liar.id(), honest.id()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); !errors.Is(err, market.ErrNoMajority) {
		t.Fatalf("err %v, want ErrNoMajority", err)
	}
	j, _ := cl.client.Job(id)
	earned := map[*tnode]*big.Int{}
	for _, a := range j.Assigned {
		if a.State != market.StateFailed || a.ResultCID == "" || a.Credited {
			t.Fatalf("assignment %+v: want failed with its result, not credited", a)
		}
		nd := liar
		if a.Provider == honest.id() {
			nd = honest
		}
		earned[nd] = a.Price
		waitProviderState(t, nd, id, market.StatePaid)
	}
	books(t, w, cl, before, earned)
}

// startProviderOn is tnode.startProvider with the provider's requests
// (bids on gossip, results) going through net.
func (nd *tnode) startProviderOn(net market.Network, cfg market.ProviderConfig) {
	t := nd.w.t
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
	t.Cleanup(func() { cancel(); p.Close(); <-done })
}

// TestGiveUpChannelResultReady: the provider has its result but cannot
// deliver it yet when the client's ResultTimeout ends the wait. It
// refuses the client's Cancel (the job has a result); the client then
// waits for that result instead of re-awarding, up to the job's deadline,
// and the job ends paid once, in its first round.
func TestGiveUpChannelResultReady(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startNet()
	tried := make(chan struct{}) // the provider has its result: it tried to deliver it
	var triedOnce atomic.Bool
	pn := &filterNet{Network: prov.net, drop: isType(wire.TypeResult), // results lost until off
		before: func(m wire.Message) {
			if m.Type() == wire.TypeResult && triedOnce.CompareAndSwap(false, true) {
				close(tried)
			}
		}}
	prov.startProviderOn(pn, market.ProviderConfig{ResultMargin: 30 * time.Second, RedeemAmount: big.NewInt(1e18)})
	cl.startNet()
	refused := make(chan struct{})
	var once atomic.Bool
	cn := &filterNet{Network: cl.net, before: func(m wire.Message) {
		if m.Type() == wire.TypeCancel {
			select { // the cancel goes out once the result exists
			case <-tried:
			case <-time.After(60 * time.Second):
			}
		}
	}, after: func(m wire.Message, _ []byte, err error) {
		if m.Type() == wire.TypeCancel && err != nil && strings.Contains(err.Error(), "already has a result") && once.CompareAndSwap(false, true) {
			close(refused)
		}
	}}
	cl.startClientOn(cn, market.ClientConfig{ResultMargin: 30 * time.Second})
	cl.waitOffers(1)
	before := map[*tnode]*big.Int{prov: w.credits(prov.addr())}
	wait := time.Second
	if raceOn {
		wait = 15 * time.Second
	}
	// ResultTimeout may end the wait before the run ends: the cancel
	// then waits for the result (cn.before).
	id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), "ready"), market.RunOptions{PayMode: wire.PayChannel, Retry: 1,
		ResultTimeout: wait, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-refused:
	case <-time.After(60 * time.Second):
		t.Fatal("the provider never refused the cancel of a job with a result")
	}
	pn.off.Store(true) // the provider's next delivery attempt goes through
	out, err := cl.client.Wait(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "args: ready\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	j, _ := cl.client.Job(id)
	if j.Attempts != 0 || len(j.Assigned) != 1 || j.Assigned[0].State != market.StatePaid {
		t.Fatalf("job attempts %d assignments %+v: want paid in the first round", j.Attempts, j.Assigned)
	}
	waitProviderState(t, prov, id, market.StatePaid)
	books(t, w, cl, before, map[*tnode]*big.Int{prov: j.Assigned[0].Price})
}
