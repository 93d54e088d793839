package market_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// recordingNet is a market.Network that keeps a copy of every award sent.
type recordingNet struct {
	market.Network
	mu     sync.Mutex
	awards [][]byte
}

func (n *recordingNet) Request(ctx context.Context, p peer.ID, sealed []byte) ([]byte, error) {
	if msg, _, err := wire.Open(sealed, wire.MaxJobSize); err == nil {
		if _, ok := msg.(*wire.Award); ok {
			n.mu.Lock()
			n.awards = append(n.awards, append([]byte(nil), sealed...))
			n.mu.Unlock()
		}
	}
	return n.Network.Request(ctx, p, sealed)
}

func (n *recordingNet) last() []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.awards[len(n.awards)-1]
}

// startRecordingClient starts nd's client on a recordingNet.
func (nd *tnode) startRecordingClient(t *testing.T, cfg market.ClientConfig) *recordingNet {
	if nd.net == nil {
		nd.startNet()
	}
	rn := &recordingNet{Network: nd.net}
	cfg.BidWait, cfg.TickInterval, cfg.WorkDir = 3*time.Second, 50*time.Millisecond, t.TempDir()
	if cfg.ResultMargin == 0 {
		cfg.ResultMargin = time.Minute
	}
	c, err := market.NewClient(market.ClientDeps{Net: rn, Seal: nd.seal, Content: nd.content, Settle: nd.settle,
		Ledger: nd.journal, Book: nd.book, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.client = c
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close(); <-done })
	return rn
}

// channelOf is the one channel of role in l.
func channelOf(t *testing.T, l *ledger.Ledger, role ledger.Role) ledger.Channel {
	t.Helper()
	cs, err := l.Channels(context.Background(), role)
	if err != nil || len(cs) != 1 {
		t.Fatalf("%s channels %+v (%v), want one", role, cs, err)
	}
	return cs[0]
}

// runChannelJob submits a channel job and waits for it to be paid.
func runChannelJob(t *testing.T, cl *tnode, spec wire.JobSpec, opts market.RunOptions) *market.Job {
	t.Helper()
	opts.PayMode = wire.PayChannel
	id, err := cl.client.Submit(cl.w.ctx, spec, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(cl.w.ctx, id); err != nil {
		t.Fatal(err)
	}
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestDirectAward: once the client pays a provider on a channel, its next
// channel job goes to that provider directly (no bids: the price is its
// offer's), the award's replay is refused as a duplicate, and both ledgers
// agree on the channel to the wei.
func TestDirectAward(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.startProvider(market.ProviderConfig{RedeemAmount: new(big.Int).Mul(ether, big.NewInt(1000))})
	rn := cl.startRecordingClient(t, market.ClientConfig{})
	cl.waitOffers(1)
	mod := cl.publishModule()

	j1 := runChannelJob(t, cl, jobSpec(mod, "first"), market.RunOptions{})
	if j1.Bids == 0 {
		t.Fatalf("first job: %d bids, want a bid (no channel yet)", j1.Bids)
	}
	j2 := runChannelJob(t, cl, jobSpec(mod, "second"), market.RunOptions{})
	if j2.Bids != 0 || len(j2.Assigned) != 1 || j2.Assigned[0].State != market.StatePaid {
		t.Fatalf("second job: %d bids, assignments %+v: want a direct award, paid", j2.Bids, j2.Assigned)
	}
	if got, want := j2.Assigned[0].Price, j1.Assigned[0].Price; got.Cmp(want) != 0 {
		t.Errorf("direct price %s, want the offer's %s (the bid's)", got, want)
	}
	j3 := runChannelJob(t, cl, jobSpec(mod, "third"), market.RunOptions{Providers: []peer.ID{prov.id()}})
	if j3.Bids != 0 {
		t.Errorf("job for a named provider: %d bids, want a direct award", j3.Bids)
	}
	waitProviderState(t, prov, j3.ID, market.StatePaid)

	// The same award again: refused, and nothing is charged twice.
	if _, err := cl.net.Request(w.ctx, prov.id(), rn.last()); !errors.Is(err, market.ErrRefused) ||
		!strings.Contains(err.Error(), "already accepted") {
		t.Fatalf("replayed direct award: %v, want refused as already accepted", err)
	}
	cc, pc := channelOf(t, cl.journal, ledger.RoleClient), channelOf(t, prov.journal, ledger.RoleProvider)
	want := new(big.Int).Add(j1.Assigned[0].Price, j2.Assigned[0].Price)
	want.Add(want, j3.Assigned[0].Price)
	if cc.Charged().Cmp(want) != 0 || pc.Charged().Cmp(want) != 0 {
		t.Fatalf("charged: client %s, provider %s, want %s on both", cc.Charged(), pc.Charged(), want)
	}
	if tot, err := prov.journal.Totals(w.ctx); err != nil || tot.Earned.Cmp(want) != 0 {
		t.Errorf("provider earned %v (%v), want %s", tot.Earned, err, want)
	}
	if tot, err := cl.journal.Totals(w.ctx); err != nil || tot.Paid.Cmp(want) != 0 {
		t.Errorf("client paid %v (%v), want %s", tot.Paid, err, want)
	}
}

// TestDirectAwardRefusedFallsBack: a direct award the provider refuses
// (the client's copy of its offer quotes less than it asks now) is
// credited back on both sides, and the job is bid for by the other
// providers and paid; the refusing provider's channel agrees to the wei.
func TestDirectAwardRefusedFallsBack(t *testing.T) {
	w := newWorld(t, 3)
	prov, other, cl := w.nodes[0], w.nodes[1], w.nodes[2]
	prov.startProvider(market.ProviderConfig{RedeemAmount: new(big.Int).Mul(ether, big.NewInt(1000))})
	other.startProvider(market.ProviderConfig{RedeemAmount: new(big.Int).Mul(ether, big.NewInt(1000))})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(2)
	mod := cl.publishModule()
	j1 := runChannelJob(t, cl, jobSpec(mod, "first"), market.RunOptions{Providers: []peer.ID{prov.id()}})

	// An offer of the provider's own signing, cheaper than its price.
	o := *prov.provider.Offer()
	o.Seq, o.Price = 1<<62, wire.PriceSchedule{PerJob: big.NewInt(1000), Tiers: testPrice.Tiers}
	o.Expiry = wire.TimestampOf(time.Now().Add(time.Minute))
	if !cl.book.Add(&o) {
		t.Fatal("book refused the offer")
	}
	j2 := runChannelJob(t, cl, jobSpec(mod, "second"), market.RunOptions{})
	if len(j2.Assigned) != 2 {
		t.Fatalf("assignments %+v: want the refused direct award and the bid one", j2.Assigned)
	}
	refused, paid := j2.Assigned[0], j2.Assigned[1]
	if refused.Provider != prov.id() || refused.State != market.StateFailed || !refused.Credited || !strings.Contains(refused.Error, "below") {
		t.Errorf("direct award %+v: want failed, credited, refused as underpaid", refused)
	}
	if paid.Provider != other.id() || paid.State != market.StatePaid || j2.Bids == 0 {
		t.Errorf("bid award %+v (%d bids): want the other provider, paid", paid, j2.Bids)
	}
	waitProviderState(t, other, j2.ID, market.StatePaid)
	ctx := w.ctx
	var cc ledger.Channel
	chs, err := cl.journal.Channels(ctx, ledger.RoleClient)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chs {
		if ch.Provider == prov.addr() {
			cc = ch
		}
	}
	pc := channelOf(t, prov.journal, ledger.RoleProvider)
	if want := j1.Assigned[0].Price; cc.Charged().Cmp(want) != 0 || pc.Charged().Cmp(want) != 0 {
		t.Fatalf("refusing provider's channel charged: client %s, provider %s, want %s on both", cc.Charged(), pc.Charged(), want)
	}
}

// slowRunner delays every run by d, so that a run outlasts the
// provider's one-write grace.
type slowRunner struct {
	market.Runner
	d time.Duration
}

func (r slowRunner) Run(ctx context.Context, s executor.Spec) (*executor.Result, error) {
	select {
	case <-time.After(r.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return r.Runner.Run(ctx, s)
}

// TestAwardLongerThanGrace: a channel run longer than the one-write grace
// is written at its award and again with its result (the path a restart
// recovers), and ends paid with both ledgers agreeing.
func TestAwardLongerThanGrace(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	prov.runner = slowRunner{Runner: prov.runner, d: 400 * time.Millisecond}
	prov.startProvider(market.ProviderConfig{RedeemAmount: new(big.Int).Mul(ether, big.NewInt(1000))})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	mod := cl.publishModule()
	var want big.Int
	for _, arg := range []string{"one", "two"} {
		j := runChannelJob(t, cl, jobSpec(mod, arg), market.RunOptions{})
		want.Add(&want, j.Assigned[0].Price)
		waitProviderState(t, prov, j.ID, market.StatePaid)
	}
	cc, pc := channelOf(t, cl.journal, ledger.RoleClient), channelOf(t, prov.journal, ledger.RoleProvider)
	if cc.Charged().Cmp(&want) != 0 || pc.Charged().Cmp(&want) != 0 {
		t.Fatalf("charged: client %s, provider %s, want %s on both", cc.Charged(), pc.Charged(), &want)
	}
}

// TestOneWriteFailsNothingCharged: the provider's single write of a short
// channel job (job, voucher and result together) fails (its ledger is
// closed under it mid-run, as a crash leaves it): the award is answered
// with the refusal, nothing was sent before the write, the client credits
// the voucher, and neither ledger charges the job.
func TestOneWriteFailsNothingCharged(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	g := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	prov.runner = g
	// A grace longer than the test: the ledger always closes within it.
	prov.startProvider(market.ProviderConfig{RedeemAmount: new(big.Int).Mul(ether, big.NewInt(1000)), FastGrace: time.Hour})
	cl.startClient(market.ClientConfig{ResultMargin: 2 * time.Second})
	cl.waitOffers(1)
	id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), "lost"), market.RunOptions{PayMode: wire.PayChannel})
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	prov.journal.Close() // within the grace: nothing of the job is written yet
	close(g.gate)
	if _, err := cl.client.Wait(w.ctx, id); !errors.Is(err, market.ErrNoResult) {
		t.Fatalf("err %v, want no result", err)
	}
	prov.openJournal()
	if _, err := prov.journal.Job(w.ctx, ledger.JobKey(cl.id().String(), id.String())); err == nil {
		t.Fatal("the provider wrote the job although its one write failed")
	}
	j, _ := cl.client.Job(id)
	if len(j.Assigned) != 1 || j.Assigned[0].State != market.StateFailed || !j.Assigned[0].Credited ||
		!strings.Contains(j.Assigned[0].Error, "award") {
		t.Fatalf("assignments %+v: want one, refused, failed and credited", j.Assigned)
	}
	if cc := channelOf(t, cl.journal, ledger.RoleClient); cc.Charged().Sign() != 0 {
		t.Errorf("client channel charged %s, want 0", cc.Charged())
	}
	if pc := channelOf(t, prov.journal, ledger.RoleProvider); pc.Charged().Sign() != 0 {
		t.Errorf("provider channel charged %s, want 0", pc.Charged())
	}
}
