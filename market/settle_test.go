package market_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// gatedRunner runs a job only once gate is closed; started is signalled
// when a run begins.
type gatedRunner struct {
	market.Runner
	started chan struct{}
	gate    chan struct{}
}

func (r gatedRunner) Run(ctx context.Context, s executor.Spec) (*executor.Result, error) {
	select {
	case r.started <- struct{}{}:
	default:
	}
	select {
	case <-r.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return r.Runner.Run(ctx, s)
}

// waitFor polls cond (real network and chain) until it holds or 60 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // polling a real network and chain, with a deadline
	}
}

// TestClientRestartSettlesLateResult: the client stops (its ledger is
// closed under it, as a kill leaves it: job awarded) while the provider
// runs the job; a new client on the same ledger gets the result while no
// process waits for it, fetches and verifies it, and pays: escrow by
// accepting, channel by keeping the voucher; the job ends paid with its
// output recorded.
func TestClientRestartSettlesLateResult(t *testing.T) {
	for _, mode := range []wire.PayMode{wire.PayEscrow, wire.PayChannel} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWorld(t, 2)
			prov, cl := w.nodes[0], w.nodes[1]
			g := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
			prov.runner = g
			prov.startProvider(market.ProviderConfig{})
			cl.startClient(market.ClientConfig{})
			cl.waitOffers(1)
			c1 := cl.client
			id, err := c1.Submit(w.ctx, jobSpec(cl.publishModule(), "late"), market.RunOptions{PayMode: mode, Providers: []peer.ID{prov.id()}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-g.started:
			case <-time.After(60 * time.Second):
				t.Fatal("job never started")
			}
			waitFor(t, "client job awarded", func() bool {
				j, err := c1.Job(id)
				return err == nil && j.State == market.StateAwarded
			})
			// "Kill" the client: nothing it does from now on is written.
			cl.journal.Close()
			c1.Close()
			cl.openJournal()
			cl.startClient(market.ClientConfig{})
			close(g.gate)

			waitFor(t, "job paid after the client restart", func() bool {
				j, err := cl.client.Job(id)
				return err == nil && j.State == market.StatePaid
			})
			j, _ := cl.client.Job(id)
			if string(j.Stdout) != "args: late\n" || j.ResultCID == "" || j.Paid == nil || j.Paid.Sign() == 0 {
				t.Errorf("job %+v", j)
			}
			if mode == wire.PayEscrow {
				st, err := cl.settle.Deal(w.ctx, j.Assigned[0].DealID)
				if err != nil || st.Status != contracts.DealClosed {
					t.Errorf("deal %v %v, want closed (accepted)", st.Status, err)
				}
			}
		})
	}
}

// TestClientRestartChannelSilentFails: a channel job whose provider
// stays silent after the client restarted ends failed after the job's
// timeout plus ResultMargin instead of staying awarded forever.
func TestClientRestartChannelSilentFails(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	g := gatedRunner{Runner: prov.exec, started: make(chan struct{}, 1), gate: make(chan struct{})}
	prov.runner = g
	prov.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	c1 := cl.client
	spec := jobSpec(cl.publishModule(), "silent")
	spec.Resources.Timeout = wire.Duration(time.Second)
	id, err := c1.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	waitFor(t, "client job awarded", func() bool {
		j, err := c1.Job(id)
		return err == nil && j.State == market.StateAwarded
	})
	cl.journal.Close()
	c1.Close()
	cl.openJournal()
	cl.startClient(market.ClientConfig{ResultMargin: time.Second})
	waitFor(t, "silent channel job failed", func() bool {
		j, err := cl.client.Job(id)
		return err == nil && j.State == market.StateFailed
	})
	close(g.gate)
}

// flakySettle fails SubmitResult while fail is set (the chain unreachable
// at the commit).
type flakySettle struct {
	*contracts.Client
	fail  atomic.Bool
	calls atomic.Int32
}

func (f *flakySettle) SubmitResult(ctx context.Context, p contracts.DealParams, h common.Hash) (*types.Receipt, error) {
	f.calls.Add(1)
	if f.fail.Load() {
		return nil, errors.New("dial tcp 127.0.0.1:8545: connection refused")
	}
	return f.Client.SubmitResult(ctx, p, h)
}

func startFlakyProvider(t *testing.T, nd *tnode, fs *flakySettle) {
	nd.startNet()
	cfg := market.ProviderConfig{Price: testPrice, OfferInterval: time.Second, TickInterval: 50 * time.Millisecond,
		WorkDir: t.TempDir(), ResultMargin: time.Second}
	p, err := market.NewProvider(market.ProviderDeps{Net: nd.net, Seal: nd.seal, Content: nd.content, Runner: nd.exec,
		Settle: fs, Ledger: nd.journal, Book: nd.book, Logger: quietLogger()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nd.provider = p
	ctx, cancel := context.WithCancel(nd.w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
}

func earned(t *testing.T, nd *tnode) *big.Int {
	ps, err := nd.journal.Payments(context.Background(), 0, ledger.PaymentEarned)
	if err != nil {
		t.Fatal(err)
	}
	sum := new(big.Int)
	for _, p := range ps {
		sum.Add(sum, p.Amount)
	}
	return sum
}

// TestProviderRetriesCommit: the chain is unreachable when the provider
// commits the result; the job stays done, the settle loop retries, the
// result goes on chain and to the client, and the provider's ledger
// records exactly what the chain paid.
func TestProviderRetriesCommit(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	fs := &flakySettle{Client: prov.settle}
	fs.fail.Store(true)
	startFlakyProvider(t, prov, fs)
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(1)
	before := w.credits(prov.addr())
	id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), "blip"), market.RunOptions{Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed commit", func() bool { return fs.calls.Load() >= 2 })
	fs.fail.Store(false)
	if _, err := cl.client.Wait(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	out := &market.Outcome{}
	j, err := cl.client.WaitSettled(w.ctx, id) // the accept waits for the commitment
	if err != nil {
		t.Fatal(err)
	}
	out.Job = *j
	waitFor(t, "provider job paid", func() bool {
		pj, err := prov.provider.Jobs()
		return err == nil && len(pj) == 1 && pj[0].State == market.StatePaid
	})
	if got := earned(t, prov); got.Cmp(out.Job.Paid) != 0 || delta(w, before, prov).Cmp(got) != 0 {
		t.Errorf("ledger earned %v, chain paid %v, client paid %v", got, delta(w, before, prov), out.Job.Paid)
	}
}

// TestProviderCommitAfterRefund: the provider never gets its result on
// chain; the client refunds after the deadline. The provider's job ends
// refunded or failed, never paid, and its ledger earns nothing. The
// result went out while the commitment was being sent (issue 9), so the
// client has it, verified, but never accepts it: the contract accepts
// only a committed result.
func TestProviderCommitAfterRefund(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	fs := &flakySettle{Client: prov.settle}
	fs.fail.Store(true)
	startFlakyProvider(t, prov, fs)
	cl.startClient(market.ClientConfig{ResultMargin: 2 * time.Second})
	cl.waitOffers(1)
	spec := jobSpec(cl.publishModule(), "cut")
	spec.Resources.Timeout = wire.Duration(time.Second)
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(w.ctx, id)
	if err != nil || out.Job.State != market.StateVerified {
		t.Fatalf("outcome %v (%v), want the verified result, not yet paid", out, err)
	}
	w.adjustTime(time.Minute)
	waitFor(t, "client refunded", func() bool {
		j, err := cl.client.Job(id)
		return err == nil && j.State == market.StateRefunded
	})
	if j, _ := cl.client.Job(id); j.Paid.Sign() != 0 || !strings.Contains(j.Assigned[0].Error, "commitment did not land") {
		t.Errorf("refunded job paid %v, assignment note %q", j.Paid, j.Assigned[0].Error)
	}
	// Now the chain is back: the commit fails on a closed deal.
	fs.fail.Store(false)
	waitFor(t, "provider job ended unpaid", func() bool {
		pj, err := prov.provider.Jobs()
		return err == nil && len(pj) == 1 && (pj[0].State == market.StateRefunded || pj[0].State == market.StateFailed)
	})
	if got := earned(t, prov); got.Sign() != 0 {
		t.Errorf("ledger earned %v for a refunded job", got)
	}
}
