package market_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// retryDispute is a client's chain whose first dispute transaction is
// not sent (a nonce or gas error), whose second lands but reports an
// error (the receipt lost), and whose later ones go through.
type retryDispute struct {
	*contracts.Client
	calls atomic.Int32
}

func (f *retryDispute) Dispute(ctx context.Context, p contracts.DealParams) (*types.Receipt, error) {
	switch f.calls.Add(1) {
	case 1:
		return nil, errors.New("nonce too low (test)")
	case 2:
		if _, err := f.Client.Dispute(ctx, p); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: lost the receipt (test)", contracts.ErrReceiptTimeout)
	}
	return f.Client.Dispute(ctx, p)
}

// TestDisputeRetriedOnSettle: redundancy 3, one liar. The client's
// dispute of the liar fails (not sent), and the client is killed right
// after its verdict. Restarted on the same ledger, its first settle tick
// sends the dispute again; that one lands though its send reports an
// error, and it counts as landed (the next tick sends nothing). The
// mediator rules for the client: the liar is refunded, never paid, and
// every ledger agrees with the chain. Before issue 6 the failed dispute
// was never sent again and the liar claimed after the window.
func TestDisputeRetriedOnSettle(t *testing.T) {
	w := newWorld(t, 4)
	cl, liar := w.nodes[3], w.nodes[0]
	liar.runner = lyingRunner{liar.exec}
	liar.startProvider(market.ProviderConfig{TickInterval: time.Hour}) // the test settles it
	for _, p := range w.nodes[1:3] {
		p.startProvider(market.ProviderConfig{})
	}
	chain := &retryDispute{Client: cl.settle}
	cl.startNet()
	newClient := func() *market.Client {
		c, err := market.NewClient(market.ClientDeps{Net: cl.net, Seal: cl.seal, Content: cl.content,
			Settle: chain, Ledger: cl.journal, Book: cl.book, Logger: quietLogger()},
			market.ClientConfig{Mediator: w.mediator.Address(), TickInterval: time.Hour, BidWait: 3 * time.Second, WorkDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = c.Run(ctx) }()
		t.Cleanup(func() { cancel(); c.Close(); <-done })
		return c
	}
	cl.client = newClient()
	cl.waitOffers(3)
	before := credits(w, w.nodes...)
	spec := jobSpec(cl.publishModule(), "retry")
	spec.Redundancy = 3
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.WaitSettled(w.ctx, id); err != nil { // the majority's accepts follow Wait
		t.Fatal(err)
	}
	a := assignmentOf(t, cl, id, liar)
	if a.State != market.StateFailed || !strings.Contains(a.Error, "dispute failed") || chain.calls.Load() != 1 {
		t.Fatalf("liar %s (%s) after %d dispute calls, want failed after one failed dispute", a.State, a.Error, chain.calls.Load())
	}
	if st, err := cl.settle.Deal(w.ctx, a.DealID); err != nil || st.Status != contracts.DealSubmitted {
		t.Fatalf("deal %v (%v), want submitted (the dispute never landed)", st.Status, err)
	}

	// Killed after the verdict; restarted on the same ledger.
	cl.client.Close()
	cl.journal.Close()
	cl.openJournal()
	cl.client = newClient()
	tick(w, cl) // the dispute is sent again: it lands, the receipt is lost
	if a = assignmentOf(t, cl, id, liar); a.State != market.StateDisputed || chain.calls.Load() != 2 {
		t.Fatalf("liar %s (%s) after %d dispute calls, want disputed after the retry", a.State, a.Error, chain.calls.Load())
	}
	if d, err := cl.journal.Deal(w.ctx, a.DealID); err != nil || d.State != ledger.DealDisputed {
		t.Fatalf("client's deal %s (%v), want disputed", d.State, err)
	}
	tick(w, cl) // idempotent: no third transaction
	if n := chain.calls.Load(); n != 2 {
		t.Fatalf("%d dispute calls after the deal was disputed, want 2", n)
	}
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	if decided := mediate(t, w, cl, j); decided[liar.addr()] {
		t.Fatal("mediator ruled for the liar")
	}
	tick(w, cl, liar)
	checkSettled(t, w, cl, liar, id, before, ledger.DealResolved, "ruled for the client")
	for _, nd := range w.nodes {
		checkDealsTrue(t, nd, true)
	}
}

// TestDisputeRetryStopsAtWindow: a dispute that fails on every try is
// sent again only while the challenge window is open; past it the
// provider claims and the client records the claim (paid, the deal
// claimed), as the chain has it.
func TestDisputeRetryStopsAtWindow(t *testing.T) {
	w := newWorld(t, 4)
	cl, liar := w.nodes[3], w.nodes[0]
	liar.runner = lyingRunner{liar.exec}
	for _, p := range w.nodes[:3] {
		p.startProvider(market.ProviderConfig{TickInterval: time.Hour})
	}
	chain := &countDispute{Client: cl.settle}
	cl.startNet()
	c, err := market.NewClient(market.ClientDeps{Net: cl.net, Seal: cl.seal, Content: cl.content,
		Settle: chain, Ledger: cl.journal, Book: cl.book, Logger: quietLogger()},
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
	spec := jobSpec(cl.publishModule(), "window")
	spec.Redundancy = 3
	id, err := c.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitSettled(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	tick(w, cl)
	tick(w, cl)
	sent := chain.calls.Load()
	if sent < 3 {
		t.Fatalf("%d dispute calls, want decide's and at least one per tick while the window is open", sent)
	}
	w.adjustTime(61 * time.Second) // past the window
	tick(w, cl, liar)
	tick(w, cl)
	if n := chain.calls.Load(); n != sent {
		t.Errorf("%d dispute calls, want none past the window", n)
	}
	a := assignmentOf(t, cl, id, liar)
	if a.State != market.StatePaid {
		t.Errorf("liar %s (%s), want paid: it claimed", a.State, a.Error)
	}
	if d, _ := cl.journal.Deal(w.ctx, a.DealID); d.State != ledger.DealClaimed {
		t.Errorf("client's deal %s, want claimed", d.State)
	}
	checkDealsTrue(t, cl, true)
	checkDealsTrue(t, liar, true)
}

// countDispute is a client's chain whose disputes never go out.
type countDispute struct {
	*contracts.Client
	calls atomic.Int32
}

func (f *countDispute) Dispute(ctx context.Context, p contracts.DealParams) (*types.Receipt, error) {
	f.calls.Add(1)
	return nil, fmt.Errorf("%w: chain unreachable (test)", contracts.ErrReceiptTimeout)
}
