package market_test

import (
	"context"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// gatedSettle holds the first channel top-up until open is closed (a
// slow chain, without a clock) and counts top-ups under way at once.
type gatedSettle struct {
	market.Settlement
	open          chan struct{}
	first         atomic.Bool
	now, most, nr atomic.Int32
}

func (g *gatedSettle) TopUp(ctx context.Context, k contracts.ChannelKey, amount *big.Int) (*types.Receipt, error) {
	n := g.now.Add(1)
	defer g.now.Add(-1)
	g.nr.Add(1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	if g.first.CompareAndSwap(false, true) {
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Settlement.TopUp(ctx, k, amount)
}

// TestChannelTopUpAhead: many channel jobs in flight at once on a channel
// opened with room for two of them, its first top-up held until most of
// them are waiting. None fails for lack of deposit (the client tops up
// ahead of its jobs, one top-up at a time, and a job that finds the
// channel short waits for the top-up under way instead of starting
// another), only a few top-up transactions are sent, and the channel's
// deposit on chain is the ledger's to the wei, as are its charges: every
// job paid once.
func TestChannelTopUpAhead(t *testing.T) {
	inFlight := 200
	if raceOn {
		inFlight = 64
	}
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	ex, err := executor.New(executor.WithMaxConcurrent(inFlight+8), executor.WithMaxMemory(uint64(inFlight+8)<<26))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(w.ctx) })
	prov.exec, prov.runner = ex, ex
	prov.startProvider(market.ProviderConfig{})
	spec := jobSpec("", "topup")
	price, _ := (&wire.Offer{Price: testPrice}).PriceFor(spec.Resources.Memory, spec.Resources.Timeout)
	gate := &gatedSettle{Settlement: cl.settle, open: make(chan struct{})}
	if cl.net == nil {
		cl.startNet()
	}
	c, err := market.NewClient(market.ClientDeps{Net: cl.net, Seal: cl.seal, Content: cl.content, Settle: gate,
		Ledger: cl.journal, Book: cl.book, Logger: quietLogger()},
		market.ClientConfig{ChannelDeposit: new(big.Int).Mul(price, big.NewInt(2)), BidWait: 3 * time.Second,
			TickInterval: 50 * time.Millisecond, ResultMargin: time.Minute, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cl.client = c
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); c.Close(); <-done })
	cl.waitOffers(1)
	spec.Module = cl.publishModule()
	opts := market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}}
	run := func() error {
		id, err := cl.client.Submit(w.ctx, spec, opts)
		if err != nil {
			return err
		}
		_, err = cl.client.Wait(w.ctx, id)
		return err
	}
	if err := run(); err != nil { // opens the channel, compiles the module
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range inFlight {
		wg.Go(func() {
			if err := run(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	// The warm-up job's reservation left less than the watermark: a
	// top-up is under way (held). Release it once most jobs wait for it.
	deadline := time.Now().Add(time.Minute)
	for {
		if _, waited := c.ChannelTopUps(); waited >= inFlight/2 {
			break
		}
		if time.Now().After(deadline) {
			close(gate.open)
			wg.Wait()
			t.Fatalf("jobs waiting for the held top-up: want %d; failed jobs %d", inFlight/2, len(errs))
		}
		time.Sleep(10 * time.Millisecond) // polling jobs on a real network, with a deadline
	}
	if n := gate.nr.Load(); n != 1 {
		t.Errorf("%d top-ups while one was under way: want that one only", n)
	}
	close(gate.open)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d jobs failed, first: %v", len(errs), inFlight, errs[0])
	}
	// A top-up the last reservations started may still be under way.
	if err := cl.client.WaitTopUps(w.ctx); err != nil {
		t.Fatal(err)
	}
	topUps, waited := cl.client.ChannelTopUps()
	t.Logf("%d jobs in flight: %d top-ups, %d waits for one", inFlight, topUps, waited)
	if topUps == 0 || topUps > 6 || int(gate.nr.Load()) != topUps {
		t.Errorf("%d top-ups (%d sent) for %d jobs on a deposit of 2: want a few", topUps, gate.nr.Load(), inFlight+1)
	}
	if m := gate.most.Load(); m != 1 {
		t.Errorf("%d top-ups of one channel at once, want 1", m)
	}
	chs, err := cl.journal.Channels(w.ctx, ledger.RoleClient, ledger.ChannelOpen)
	if err != nil || len(chs) != 1 {
		t.Fatalf("client channels %d: %v", len(chs), err)
	}
	ch := chs[0]
	oc, err := cl.settle.Channel(w.ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if oc.Deposit.Cmp(ch.Deposit) != 0 {
		t.Errorf("deposit on chain %s, in the ledger %s", oc.Deposit, ch.Deposit)
	}
	want := new(big.Int).Mul(price, big.NewInt(int64(inFlight+1)))
	if ch.Charged().Cmp(want) != 0 {
		t.Errorf("channel charged %s, want %d jobs at %s = %s", ch.Charged(), inFlight+1, price, want)
	}
	// The locked payments the ledger recorded add up to the deposit.
	pays, err := cl.journal.Payments(w.ctx, 0, ledger.PaymentLocked)
	if err != nil {
		t.Fatal(err)
	}
	locked := new(big.Int)
	for _, p := range pays {
		if p.Ref == ch.ID {
			locked.Add(locked, p.Amount)
		}
	}
	if locked.Cmp(oc.Deposit) != 0 {
		t.Errorf("locked payments %s, deposit on chain %s", locked, oc.Deposit)
	}
}
