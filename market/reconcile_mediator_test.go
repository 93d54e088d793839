package market_test

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/market"
	"github.com/cloudless-network/cloudless/market/wire"
)

// killAfterResolve is a mediator's chain that "kills" the mediator right
// after its first resolve transaction landed: kill runs (it closes the
// mediator's ledger, so nothing more is written), and every later
// resolve fails without being sent (the process is gone).
type killAfterResolve struct {
	market.MediationChain
	kill func()

	mu     sync.Mutex
	killed bool
	deal   common.Hash // the deal ruled before the kill
}

func (k *killAfterResolve) Resolve(ctx context.Context, p contracts.DealParams, forProvider bool) (*types.Receipt, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.killed {
		return nil, errors.New("killed (test)")
	}
	rc, err := k.MediationChain.Resolve(ctx, p, forProvider)
	if err != nil {
		return nil, err
	}
	k.killed, k.deal = true, k.MediationChain.DealID(p)
	k.kill()
	return rc, nil
}

func (k *killAfterResolve) ruled() (common.Hash, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.deal, k.killed
}

// TestMediatorKilledAfterResolve: redundancy 2, one liar, both deals
// disputed. The mediator is killed between its first resolve
// transaction (landed) and the fee's ledger write. Started again on the
// same ledger, it records that fee by itself (nobody brings a closed
// deal's case again), rules the other deal when its case comes, and its
// ledger's earnings equal what the chain credited it, to the wei; the
// client and providers' deals agree with the chain.
func TestMediatorKilledAfterResolve(t *testing.T) {
	w := newWorld(t, 4)
	liar, honest, med, cl := w.nodes[0], w.nodes[1], w.nodes[2], w.nodes[3]
	med.startNet()
	chain := &killAfterResolve{MediationChain: med.settle, kill: func() { med.journal.Close() }}
	s1, err := market.NewMediatorService(market.MediatorDeps{Net: med.net, Seal: med.seal, Content: med.content, Runner: med.exec,
		Settle: chain, Ledger: med.journal, Logger: quietLogger()}, market.MediatorConfig{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s1.Close() })
	liar.runner = lyingRunner{liar.exec}
	for _, p := range []*tnode{liar, honest} {
		p.startProvider(market.ProviderConfig{TickInterval: time.Hour, Mediators: []common.Address{med.addr()}})
	}
	cl.startClient(market.ClientConfig{TickInterval: time.Hour, Mediator: med.addr(), MediatorFee: mediatorFee, MediatorPeer: med.id()})
	cl.waitOffers(2)
	before := credits(w, w.nodes...)
	spec := jobSpec(cl.publishModule(), "k")
	spec.Redundancy = 2
	id, err := cl.client.Submit(w.ctx, spec, market.RunOptions{PayMode: wire.PayEscrow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.client.Wait(w.ctx, id); !errors.Is(err, market.ErrNoMajority) {
		t.Fatalf("err %v, want ErrNoMajority (one liar of two)", err)
	}
	tick(w, cl) // the cases are brought
	waitFor(t, "a ruling on chain and the mediator killed", func() bool {
		_, ok := chain.ruled()
		return ok
	})
	first, _ := chain.ruled()
	if st, err := w.mediator.Deal(w.ctx, first); err != nil || st.Status != contracts.DealClosed {
		t.Fatalf("ruled deal %v (%v), want closed", st.Status, err)
	}
	s1.Close()

	// Started again on the same ledger: the fee of the landed ruling is
	// recorded without any party bringing its case.
	med.openJournal()
	s2, _ := med.startMediator(market.MediatorConfig{})
	waitFor(t, "the fee of the ruling made before the kill", func() bool {
		ok, err := med.journal.HasPayment(w.ctx, market.MediatorFeeID(first))
		return err == nil && ok
	})
	if n, err := s2.ReconcileFees(w.ctx); err != nil || n != 0 {
		t.Errorf("ReconcileFees again: %d recorded (%v), want 0 (idempotent)", n, err)
	}

	// The other deal is ruled when its case comes again.
	j, err := cl.client.Job(id)
	if err != nil {
		t.Fatal(err)
	}
	var deals []common.Hash
	for _, a := range j.Assigned {
		deals = append(deals, a.DealID)
		if a.DealID == first {
			continue
		}
		r, err := ask(t, cl, med, mustSeal(t, cl, caseOf(cl.id(), j, a)))
		if err != nil || r.Status != wire.MediationAccepted {
			t.Fatalf("case of the other deal: %+v (%v), want accepted", r, err)
		}
	}
	waitClosed(t, w, nil, deals...)
	tick(w, cl, liar, honest)
	tick(w, cl, liar, honest)

	two := new(big.Int).Mul(mediatorFee, big.NewInt(2))
	waitFor(t, "both fees in the mediator's ledger", func() bool {
		mt, err := med.journal.Totals(w.ctx)
		return err == nil && mt.Earned.Cmp(two) == 0
	})
	mt, err := med.journal.Totals(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := delta(w, before[2], med); d.Cmp(two) != 0 || mt.Earned.Cmp(d) != 0 || mt.Count != 2 {
		t.Errorf("mediator credited %v, its ledger earned %v in %d payments; want %v in 2", d, mt.Earned, mt.Count, two)
	}
	for _, nd := range []*tnode{cl, liar, honest} {
		checkDealsTrue(t, nd, true)
	}
	tot, err := cl.journal.Totals(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := delta(w, before[3], cl); d.Cmp(tot.Refunded) != 0 {
		t.Errorf("chain credited the client %v, its ledger says refunded %v", d, tot.Refunded)
	}
}
