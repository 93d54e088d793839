package market_test

import (
	"context"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// stuckRunner never finishes a run: the provider is stopped mid-job.
type stuckRunner struct {
	market.Runner
	started chan struct{}
}

func (r stuckRunner) Run(ctx context.Context, s executor.Spec) (*executor.Result, error) {
	select {
	case r.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestProviderRestartFinishesPaidJob stops a provider while it runs a paid
// job and starts a new one on the same journal: the new one re-runs the
// job from the journal, commits the result and delivers it, and the
// client's job ends paid, without a second award or payment.
func TestProviderRestartFinishesPaidJob(t *testing.T) {
	for _, mode := range []wire.PayMode{wire.PayEscrow, wire.PayChannel} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWorld(t, 2)
			prov, cl := w.nodes[0], w.nodes[1]
			prov.startNet()
			stuck := stuckRunner{Runner: prov.exec, started: make(chan struct{}, 1)}
			cfg := market.ProviderConfig{Price: testPrice, OfferInterval: time.Second, TickInterval: 50 * time.Millisecond,
				RedeemAmount: jobPrice, WorkDir: t.TempDir()}
			deps := market.ProviderDeps{Net: prov.net, Seal: prov.seal, Content: prov.content, Runner: stuck,
				Settle: prov.settle, Ledger: prov.journal, Book: prov.book, Logger: quietLogger()}
			p1, err := market.NewProvider(deps, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx1, stop1 := context.WithCancel(w.ctx)
			done1 := make(chan struct{})
			go func() { defer close(done1); _ = p1.Run(ctx1) }()

			cl.startClient(market.ClientConfig{})
			cl.waitOffers(1)
			before := w.credits(prov.addr())
			id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), "again"), market.RunOptions{PayMode: mode})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-stuck.started:
			case <-time.After(30 * time.Second):
				t.Fatal("job never started")
			}
			stop1()
			p1.Close()
			<-done1

			deps.Runner = prov.exec
			p2, err := market.NewProvider(deps, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx2, stop2 := context.WithCancel(w.ctx)
			defer stop2()
			done2 := make(chan struct{})
			go func() { defer close(done2); _ = p2.Run(ctx2) }()
			t.Cleanup(func() { stop2(); p2.Close(); <-done2 })

			out, err := cl.client.Wait(w.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if string(out.Stdout) != "args: again\n" {
				t.Errorf("stdout %q", out.Stdout)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				if d := delta(w, before, prov); d.Cmp(jobPrice) == 0 {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("provider earned %v, want %v", d, jobPrice)
				}
				time.Sleep(20 * time.Millisecond) // polling the chain, with a deadline
			}
		})
	}
}
