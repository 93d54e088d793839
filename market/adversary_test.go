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
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// lyingRunner is a dishonest provider's sandbox: it runs the job for real
// and then changes the output, consistently, so its result is well formed
// and available but wrong.
type lyingRunner struct{ market.Runner }

func (r lyingRunner) Run(ctx context.Context, s executor.Spec) (*executor.Result, error) {
	res, err := r.Runner.Run(ctx, s)
	if res != nil {
		res.Stdout = append(res.Stdout, "forged\n"...)
	}
	return res, err
}

// countingRunner counts runs, to prove a provider ran nothing unpaid.
type countingRunner struct {
	market.Runner
	n atomic.Int32
}

func (r *countingRunner) Run(ctx context.Context, s executor.Spec) (*executor.Result, error) {
	r.n.Add(1)
	return r.Runner.Run(ctx, s)
}

// silentContent is a provider that cannot store its output: it reports
// the job failed ("provider failed: ...") and is not paid.
type silentContent struct{ storeContent }

func (silentContent) AddDir(ctx context.Context, dir string) (string, error) {
	return "", errors.New("disk full (test)")
}

func credits(w *world, nds ...*tnode) []*big.Int {
	out := make([]*big.Int, len(nds))
	for i, n := range nds {
		out[i] = w.credits(n.addr())
	}
	return out
}

func delta(w *world, before *big.Int, nd *tnode) *big.Int {
	return new(big.Int).Sub(w.credits(nd.addr()), before)
}

// mediate resolves every disputed assignment of a client job, as the
// deal's mediator, by re-running the job.
func mediate(t *testing.T, w *world, via *tnode, j *market.Job) map[common.Address]bool {
	t.Helper()
	m := &market.Mediator{Settle: w.mediator, Content: via.content, Runner: via.exec, WorkDir: t.TempDir()}
	out := map[common.Address]bool{}
	for _, a := range j.Assigned {
		if a.State != market.StateDisputed {
			continue
		}
		forProvider, err := m.Resolve(w.ctx, *a.Deal, a.DealID, j.ID, j.Spec)
		if err != nil {
			t.Fatalf("mediate %s: %v", a.Provider, err)
		}
		out[a.Addr] = forProvider
	}
	return out
}

func TestRedundancyWithOneLiar(t *testing.T) {
	for _, k := range []int{2, 3} {
		t.Run(map[int]string{2: "k2", 3: "k3"}[k], func(t *testing.T) {
			w := newWorld(t, k+1)
			cl := w.nodes[k]
			liar := w.nodes[0]
			liar.runner = lyingRunner{liar.exec}
			for _, p := range w.nodes[:k] {
				p.startProvider(market.ProviderConfig{})
			}
			cl.startClient(market.ClientConfig{Mediator: w.mediator.Address()})
			cl.waitOffers(k)
			before := credits(w, w.nodes...)
			spec := jobSpec(cl.publishModule(), "k")
			spec.Redundancy = k
			id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
			if err != nil {
				t.Fatal(err)
			}
			out, err := cl.client.Wait(w.ctx, id)
			if k == 2 {
				if !errors.Is(err, market.ErrNoMajority) {
					t.Fatalf("k=2 with a liar: err %v, want ErrNoMajority", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if string(out.Stdout) != "args: k\n" {
					t.Errorf("stdout %q: the majority's output should win", out.Stdout)
				}
			}
			j, err := cl.client.Job(id)
			if err != nil {
				t.Fatal(err)
			}
			decided := mediate(t, w, cl, j)
			if fp, ok := decided[liar.addr()]; !ok || fp {
				t.Errorf("liar not disputed or mediated in its favour: %v", decided)
			}
			for _, p := range w.nodes[1:k] {
				if k == 2 && !decided[p.addr()] {
					t.Errorf("honest provider lost its dispute")
				}
			}
			// Honest providers earn exactly the price; the liar nothing;
			// the client gets the liar's price back.
			for i, p := range w.nodes[1:k] {
				if k == 3 {
					waitProviderState(t, p, id, market.StatePaid)
				}
				if d := delta(w, before[i+1], p); d.Cmp(jobPrice) != 0 {
					t.Errorf("honest provider %d earned %v, want %v", i+1, d, jobPrice)
				}
			}
			if d := delta(w, before[0], liar); d.Sign() != 0 {
				t.Errorf("liar earned %v", d)
			}
			if d := delta(w, before[k], cl); d.Cmp(jobPrice) != 0 {
				t.Errorf("client refunded %v, want the liar's price %v", d, jobPrice)
			}
			if r := cl.client.Reputation(liar.id()); r >= 0.5 {
				t.Errorf("liar's reputation %v did not drop", r)
			}
		})
	}
}

func TestChannelRedundancyLiarIsNotUsedAgain(t *testing.T) {
	w := newWorld(t, 5)
	cl, liar := w.nodes[4], w.nodes[0]
	liar.runner = lyingRunner{liar.exec}
	for _, p := range w.nodes[:4] {
		p.startProvider(market.ProviderConfig{})
	}
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(4)
	spec := jobSpec(cl.publishModule(), "c")
	spec.Redundancy = 3
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel, Providers: []peer.ID{liar.id(), w.nodes[1].id(), w.nodes[2].id()}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.client.Wait(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "args: c\n" {
		t.Errorf("stdout %q", out.Stdout)
	}
	if r := cl.client.Reputation(liar.id()); r >= 0.2 {
		t.Errorf("liar reputation %v", r)
	}
	// The next job does not ask the liar.
	spec.Redundancy = 1
	id2, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayChannel})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id2); err != nil {
		t.Fatal(err)
	}
	j2, _ := cl.client.Job(id2)
	if j2.Assigned[0].Provider == liar.id() {
		t.Errorf("liar was awarded again")
	}
}

func TestSilentProviderRefunded(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	silent := silentContent{prov.content}
	prov.startNet()
	p, err := market.NewProvider(market.ProviderDeps{Net: prov.net, Seal: prov.seal, Content: silent, Runner: prov.exec,
		Settle: prov.settle, Ledger: prov.journal, Book: prov.book, Logger: quietLogger()},
		market.ProviderConfig{Price: testPrice, OfferInterval: time.Second, TickInterval: 50 * time.Millisecond, ResultMargin: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	go p.Run(ctx)
	t.Cleanup(func() { p.Close() })
	cl.startClient(market.ClientConfig{ResultMargin: 5 * time.Second})
	cl.waitOffers(1)
	before := w.credits(cl.addr())
	spec := jobSpec(cl.publishModule())
	spec.Resources.Timeout = wire.Duration(time.Second)
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); !errors.Is(err, market.ErrStopped) || !contains(err, "provider failed") {
		t.Fatalf("err %v, want ErrStopped (provider failed)", err)
	}
	w.adjustTime(time.Minute) // past the deal deadline
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, _ := cl.client.Job(id)
		if j.State == market.StateRefunded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s, want refunded (%+v)", j.State, j.Assigned)
		}
		time.Sleep(20 * time.Millisecond) // polling the chain, with a deadline
	}
	price := new(big.Int).Add(big.NewInt(1_000_000_000_000), big.NewInt(1_000_000_000))
	if d := delta(w, before, cl); d.Cmp(price) != 0 {
		t.Errorf("client refunded %v, want %v", d, price)
	}
}

// bidFor sends a JobRequest from cl straight to prov and returns the bid.
func bidFor(t *testing.T, cl, prov *tnode, spec wire.JobSpec, mode wire.PayMode) (*wire.JobRequest, *wire.Bid) {
	t.Helper()
	now := time.Now()
	req := &wire.JobRequest{ID: wire.NewJobID(), Client: cl.id(), ClientAddr: cl.addr(), Spec: spec,
		BidDeadline: wire.TimestampOf(now.Add(5 * time.Second)), PayMode: mode, Expiry: wire.TimestampOf(now.Add(time.Minute))}
	sealed, err := cl.seal(req)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := cl.net.Request(cl.w.ctx, prov.id(), sealed)
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := wire.Open(reply, wire.MaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	return req, msg.(*wire.Bid)
}

func sendAward(t *testing.T, cl, prov *tnode, a *wire.Award) error {
	t.Helper()
	a.Client, a.Provider = cl.id(), prov.id()
	a.Expiry = wire.TimestampOf(time.Now().Add(time.Minute))
	sealed, err := cl.seal(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.net.Request(cl.w.ctx, prov.id(), sealed)
	return err
}

func TestMaliciousClient(t *testing.T) {
	w := newWorld(t, 3)
	prov, cl, other := w.nodes[0], w.nodes[1], w.nodes[2]
	counter := &countingRunner{Runner: prov.exec}
	prov.runner = counter
	prov.startProvider(market.ProviderConfig{})
	cl.startNet()
	spec := jobSpec(cl.publishModule())
	ctx := w.ctx

	t.Run("no payment", func(t *testing.T) {
		_, bid := bidFor(t, cl, prov, spec, wire.PayEscrow)
		err := sendAward(t, cl, prov, &wire.Award{JobID: bid.JobID, Price: bid.Price, PayMode: wire.PayEscrow, DealID: common.HexToHash("0x1234")})
		if !errors.Is(err, market.ErrRefused) || !contains(err, "payment not verified") {
			t.Fatalf("err %v, want a refusal for no payment", err)
		}
	})
	t.Run("deal below the bid", func(t *testing.T) {
		req, bid := bidFor(t, cl, prov, spec, wire.PayEscrow)
		dp := openDeal(t, w, cl, prov, req, new(big.Int).Sub(bid.Price, big.NewInt(1)))
		err := sendAward(t, cl, prov, &wire.Award{JobID: bid.JobID, Price: bid.Price, PayMode: wire.PayEscrow, DealID: cl.settle.DealID(dp)})
		if !contains(err, "below bid") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("replayed award", func(t *testing.T) {
		req, bid := bidFor(t, cl, prov, spec, wire.PayEscrow)
		dp := openDeal(t, w, cl, prov, req, bid.Price)
		a := &wire.Award{JobID: bid.JobID, Price: bid.Price, PayMode: wire.PayEscrow, DealID: cl.settle.DealID(dp)}
		a.Client, a.Provider, a.Expiry = cl.id(), prov.id(), wire.TimestampOf(time.Now().Add(time.Minute))
		sealed, _ := cl.seal(a)
		if _, err := cl.net.Request(ctx, prov.id(), sealed); err != nil {
			t.Fatal(err)
		}
		runs := counter.n.Load()
		_, err := cl.net.Request(ctx, prov.id(), sealed)
		if !contains(err, "duplicate") {
			t.Fatalf("replayed award: err %v, want duplicate", err)
		}
		waitProviderState(t, prov, bid.JobID, market.StateSubmitted)
		if got := counter.n.Load(); got != runs && got != runs+1 || got > 1 {
			t.Errorf("job ran %d times", got)
		}
	})

	// Channels: one from cl to prov, one from cl to another provider.
	price := jobPrice
	salt := common.HexToHash("0x01")
	key, _, err := cl.settle.OpenChannel(ctx, prov.addr(), salt, new(big.Int).Mul(price, big.NewInt(10)))
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _, err := cl.settle.OpenChannel(ctx, other.addr(), salt, new(big.Int).Mul(price, big.NewInt(10)))
	if err != nil {
		t.Fatal(err)
	}
	voucherAward := func(k contracts.ChannelKey, cum *big.Int, bid *wire.Bid) *wire.Award {
		v, err := cl.settle.SignVoucher(k, cum)
		if err != nil {
			t.Fatal(err)
		}
		return &wire.Award{JobID: bid.JobID, Price: bid.Price, PayMode: wire.PayChannel,
			Voucher: &wire.Voucher{ChannelID: k.ID(), Cumulative: cum, Signature: v.Signature}}
	}
	t.Run("voucher pays first job", func(t *testing.T) {
		_, bid := bidFor(t, cl, prov, spec, wire.PayChannel)
		if err := sendAward(t, cl, prov, voucherAward(key, bid.Price, bid)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("voucher below promised", func(t *testing.T) {
		_, bid := bidFor(t, cl, prov, spec, wire.PayChannel)
		err := sendAward(t, cl, prov, voucherAward(key, bid.Price, bid)) // should be 2×price
		if !contains(err, "does not cover") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("voucher for another channel", func(t *testing.T) {
		_, bid := bidFor(t, cl, prov, spec, wire.PayChannel)
		err := sendAward(t, cl, prov, voucherAward(otherKey, new(big.Int).Mul(bid.Price, big.NewInt(2)), bid))
		if !contains(err, "payment not verified") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("voucher signed by someone else", func(t *testing.T) {
		_, bid := bidFor(t, cl, prov, spec, wire.PayChannel)
		v, err := other.settle.SignVoucher(key, new(big.Int).Mul(bid.Price, big.NewInt(2)))
		if err != nil {
			t.Fatal(err)
		}
		err = sendAward(t, cl, prov, &wire.Award{JobID: bid.JobID, Price: bid.Price, PayMode: wire.PayChannel,
			Voucher: &wire.Voucher{ChannelID: key.ID(), Cumulative: v.Cumulative, Signature: v.Signature}})
		if !contains(err, "payment not verified") {
			t.Fatalf("err %v", err)
		}
	})
	// Only the two paid jobs ran.
	deadline := time.Now().Add(20 * time.Second)
	for counter.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling the provider, with a deadline
	}
	if n := counter.n.Load(); n != 2 {
		t.Errorf("provider ran %d jobs, want the 2 paid ones", n)
	}
}

func openDeal(t *testing.T, w *world, cl, prov *tnode, req *wire.JobRequest, price *big.Int) contracts.DealParams {
	t.Helper()
	h, err := w.chain.Client().HeaderByNumber(w.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	specCBOR, _ := wire.Marshal(&req.Spec)
	dp := contracts.DealParams{Client: cl.addr(), Provider: prov.addr(), Price: price, Deadline: h.Time + 120,
		ChallengeWindow: 60, JobHash: market.JobHash(req.ID, specCBOR)}
	if _, _, err := cl.settle.OpenDeal(w.ctx, dp, nil); err != nil {
		t.Fatal(err)
	}
	return dp
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

func TestMaliciousProviderResults(t *testing.T) {
	w := newWorld(t, 3)
	prov, mallory, cl := w.nodes[0], w.nodes[1], w.nodes[2]
	prov.startProvider(market.ProviderConfig{})
	mallory.startProvider(market.ProviderConfig{})
	cl.startClient(market.ClientConfig{})
	cl.waitOffers(2)
	id, err := cl.client.Submit(w.ctx, jobSpec(cl.publishModule(), "x"), market.RunOptions{PayMode: wire.PayEscrow, Providers: []peer.ID{prov.id()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.WaitSettled(w.ctx, id); err != nil { // the accept follows Wait
		t.Fatal(err)
	}
	pj := waitProviderState(t, prov, id, market.StatePaid)
	before := credits(w, prov, mallory, cl)

	t.Run("replayed result", func(t *testing.T) {
		_, err := prov.net.Request(w.ctx, cl.id(), pj.Result)
		if !contains(err, "duplicate") {
			t.Fatalf("err %v, want duplicate", err)
		}
	})
	t.Run("result for another job", func(t *testing.T) {
		forged := &wire.Result{JobID: id, Provider: mallory.id(), ResultCID: pj.ResultCID, OutputHash: pj.OutputHash}
		sealed, err := mallory.seal(forged)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mallory.net.Request(w.ctx, cl.id(), sealed); !contains(err, "not awarded") {
			t.Fatalf("err %v, want a refusal", err)
		}
		unknown := &wire.Result{JobID: wire.NewJobID(), Provider: mallory.id(), ResultCID: pj.ResultCID, OutputHash: pj.OutputHash}
		sealed, _ = mallory.seal(unknown)
		if _, err := mallory.net.Request(w.ctx, cl.id(), sealed); !contains(err, "unknown job") {
			t.Fatalf("err %v, want a refusal", err)
		}
	})
	t.Run("result signed by another key", func(t *testing.T) {
		forged := &wire.Result{JobID: id, Provider: prov.id(), ResultCID: pj.ResultCID, OutputHash: pj.OutputHash}
		if _, err := mallory.seal(forged); !errors.Is(err, wire.ErrSigner) {
			t.Fatalf("sealing as another peer: err %v", err)
		}
	})
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != market.StatePaid || len(j.Assigned) != 1 || j.Paid.Cmp(jobPrice) != 0 {
		t.Errorf("job changed: %s %+v", j.State, j.Assigned)
	}
	after := credits(w, prov, mallory, cl)
	for i := range before {
		if before[i].Cmp(after[i]) != 0 {
			t.Errorf("credits of node %d moved: %v -> %v", i, before[i], after[i])
		}
	}
}
