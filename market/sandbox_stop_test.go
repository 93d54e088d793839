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

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// spinWasm is a module whose _start loops forever (see cmd/cloudless/demo.go):
//
//	(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))
var spinWasm = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
	0x03, 0x02, 0x01, 0x00,
	0x05, 0x03, 0x01, 0x00, 0x01,
	0x07, 0x13, 0x02,
	0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00,
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
	0x0a, 0x09, 0x01, 0x07, 0x00,
	0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,
}

// watchedSettle counts the provider's result commitments and claims.
type watchedSettle struct {
	market.Settlement
	submits, claims atomic.Int32
}

func (s *watchedSettle) SubmitResult(ctx context.Context, p contracts.DealParams, h common.Hash) (*types.Receipt, error) {
	s.submits.Add(1)
	return s.Settlement.SubmitResult(ctx, p, h)
}

func (s *watchedSettle) Claim(ctx context.Context, p contracts.DealParams) (*types.Receipt, error) {
	s.claims.Add(1)
	return s.Settlement.Claim(ctx, p)
}

// gasSpent sums what a's transactions in blocks (from, head] cost in gas.
func gasSpent(t *testing.T, w *world, a common.Address, from uint64) *big.Int {
	t.Helper()
	ec := w.chain.Client()
	head, err := ec.BlockNumber(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := new(big.Int)
	for n := from + 1; n <= head; n++ {
		b, err := ec.BlockByNumber(w.ctx, new(big.Int).SetUint64(n))
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range b.Transactions() {
			sender, err := types.Sender(types.LatestSignerForChainID(tx.ChainId()), tx)
			if err != nil || sender != a {
				continue
			}
			r, err := ec.TransactionReceipt(w.ctx, tx.Hash())
			if err != nil {
				t.Fatal(err)
			}
			sum.Add(sum, new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice))
		}
	}
	return sum
}

// TestSandboxStopRefunded: a module that spins past its timeout, paid by
// escrow, is stopped by the provider's sandbox; the provider reports the
// failure, commits nothing and earns nothing; the client does not accept,
// shows the cause, and gets the escrow back after the deal deadline.
func TestSandboxStopRefunded(t *testing.T) {
	w := newWorld(t, 2)
	prov, cl := w.nodes[0], w.nodes[1]
	settle := &watchedSettle{Settlement: prov.settle}
	prov.startNet()
	p, err := market.NewProvider(market.ProviderDeps{Net: prov.net, Seal: prov.seal, Content: prov.content, Runner: prov.exec,
		Settle: settle, Ledger: prov.journal, Book: prov.book, Logger: quietLogger()},
		market.ProviderConfig{Price: testPrice, OfferInterval: time.Second, TickInterval: 50 * time.Millisecond, ResultMargin: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
	cl.startClient(market.ClientConfig{ResultMargin: 5 * time.Second})
	cl.waitOffers(1)

	mod, err := cl.content.AddBytes(spinWasm)
	if err != nil {
		t.Fatal(err)
	}
	start, err := w.chain.Client().BlockNumber(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	clBefore, provBefore := w.balance(cl.addr()), w.balance(prov.addr())
	provCredits := w.credits(prov.addr())
	spec := jobSpec(mod)
	spec.Resources.Timeout = wire.Duration(time.Second)
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.client.Wait(w.ctx, id)
	if !errors.Is(err, market.ErrStopped) || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err %v, want ErrStopped naming the deadline", err)
	}
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != market.StateFailed || j.ExitCode == 0 || !strings.Contains(j.Error, "deadline") || strings.Contains(j.Error, "\n") {
		t.Fatalf("job %s exit %d error %q, want failed, non-zero exit, one-line deadline cause", j.State, j.ExitCode, j.Error)
	}
	if len(j.Assigned) != 1 || !j.Assigned[0].Stopped || j.Assigned[0].State != market.StateFailed {
		t.Fatalf("assignments %+v, want one stopped", j.Assigned)
	}
	if j.Paid != nil && j.Paid.Sign() != 0 {
		t.Fatalf("client paid %s for a stopped job", j.Paid)
	}
	pj, err := p.Jobs()
	if err != nil || len(pj) != 1 || pj[0].State != market.StateFailed || !pj[0].Stopped {
		t.Fatalf("provider jobs %+v (%v), want one failed, stopped", pj, err)
	}
	if st, err := prov.settle.Deal(w.ctx, j.Assigned[0].DealID); err != nil || st.Status != contracts.DealOpen {
		t.Fatalf("deal %+v (%v), want still open before the deadline", st, err)
	}

	w.adjustTime(time.Minute) // past the deal deadline
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, _ = cl.client.Job(id)
		if j.State == market.StateRefunded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s, want refunded (%+v)", j.State, j.Assigned)
		}
		time.Sleep(20 * time.Millisecond) // polling the chain, with a deadline
	}
	if j.Assigned[0].State != market.StateRefunded || !strings.Contains(j.Error, "deadline") {
		t.Errorf("assignment %s, job error %q: want refunded, cause kept", j.Assigned[0].State, j.Error)
	}
	if st, err := prov.settle.Deal(w.ctx, j.Assigned[0].DealID); err != nil || st.Status != contracts.DealClosed {
		t.Errorf("deal %+v (%v), want closed by the refund", st, err)
	}
	// The client's money is back, less gas; the provider got nothing.
	gas := gasSpent(t, w, cl.addr(), start)
	if want, got := new(big.Int).Sub(clBefore, gas), w.balance(cl.addr()); got.Cmp(want) != 0 {
		t.Errorf("client ether+credits %s, want %s (start %s minus gas %s)", got, want, clBefore, gas)
	}
	if d := new(big.Int).Sub(w.credits(prov.addr()), provCredits); d.Sign() != 0 {
		t.Errorf("provider credits changed by %s, want 0", d)
	}
	p.Settle(w.ctx) // a settle round after the refund claims nothing
	if got := new(big.Int).Sub(w.balance(prov.addr()), provBefore); got.Sign() > 0 {
		t.Errorf("provider gained %s", got)
	}
	if n := settle.submits.Load(); n != 0 {
		t.Errorf("provider submitted %d result commitments, want 0", n)
	}
	if n := settle.claims.Load(); n != 0 {
		t.Errorf("provider claimed %d times, want 0", n)
	}
	if pj, _ := p.Jobs(); len(pj) != 1 || pj[0].State != market.StateFailed || !pj[0].Delivered {
		t.Errorf("provider job %+v, want failed and delivered", pj)
	}
}
