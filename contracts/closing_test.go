package contracts_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/contracts"
)

// TestFilterDealClosings closes four deals four ways (accept, resolve for
// the provider, resolve for the client, dispute expired) and one not at
// all, and checks that each closing event names its deal, who won and,
// for TooEarly, when the expiry becomes possible.
func TestFilterDealClosings(t *testing.T) {
	e := newEnv(t)
	e.ok(e.provider.Stake(e.ctx, milli(50)))
	mk := func(salt byte) contracts.DealParams {
		p := e.deal(milli(10), milli(1), milli(5), true)
		p.JobHash = common.BytesToHash([]byte{salt})
		sig, _ := e.provider.SignDeal(p)
		e.open(p, sig)
		e.ok(e.provider.SubmitResult(e.ctx, p, common.HexToHash("0x02")))
		return p
	}
	accepted, forProv, forClient, expired, open := mk(1), mk(2), mk(3), mk(4), mk(5)
	e.ok(e.client.Accept(e.ctx, accepted))
	for _, p := range []contracts.DealParams{forProv, forClient, expired} {
		e.ok(e.client.Dispute(e.ctx, p))
	}
	e.ok(e.mediator.Resolve(e.ctx, forProv, true))
	e.ok(e.mediator.Resolve(e.ctx, forClient, false))
	_, err := e.client.ExpireDispute(e.ctx, expired)
	var re *contracts.RevertError
	if !errors.As(err, &re) || !errors.Is(err, contracts.ErrTooEarly) || len(re.Args) != 1 {
		t.Fatalf("early expiry: %v", err)
	}
	if nb, ok := re.Args[0].(*big.Int); !ok || nb.Uint64() <= e.now() {
		t.Fatalf("TooEarly carries %v, want a future chain time", re.Args[0])
	}
	e.advance(301 * time.Second)
	e.ok(e.provider.ExpireDispute(e.ctx, expired))

	ids := []common.Hash{e.client.DealID(accepted), e.client.DealID(forProv), e.client.DealID(forClient), e.client.DealID(expired), e.client.DealID(open)}
	got, err := e.client.FilterDealClosings(e.ctx, 0, ids)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[common.Hash]contracts.DealClosing{}
	for _, c := range got {
		if _, dup := byID[c.DealID]; dup {
			t.Errorf("deal %s closed twice", c.DealID)
		}
		byID[c.DealID] = c
	}
	want := []struct {
		event       string
		forProvider bool
	}{{"DealAccepted", false}, {"DealResolved", true}, {"DealResolved", false}, {"DisputeExpired", false}}
	for i, w := range want {
		c, ok := byID[ids[i]]
		if !ok || c.Event != w.event || c.ForProvider != w.forProvider {
			t.Errorf("deal %d: closing %+v, want %s forProvider=%t", i, c, w.event, w.forProvider)
		}
	}
	if c := byID[ids[2]]; c.Mediator != e.mediator.Address() {
		t.Errorf("resolved by %s, want the mediator", c.Mediator)
	}
	if _, ok := byID[ids[4]]; ok {
		t.Errorf("a deal still submitted has a closing event")
	}
	// Only the asked deals.
	one, err := e.client.FilterDealClosings(e.ctx, 0, ids[3:4])
	if err != nil || len(one) != 1 || one[0].Event != "DisputeExpired" {
		t.Fatalf("one deal: %+v, %v", one, err)
	}
	// A refund after the deadline carries the amounts.
	r := e.deal(milli(3), milli(1), milli(2), true)
	sig, _ := e.provider.SignDeal(r)
	e.open(r, sig)
	e.advance(time.Duration(r.Deadline-e.now()+1) * time.Second)
	e.ok(e.client.Refund(e.ctx, r))
	ref, err := e.client.FilterDealClosings(e.ctx, 0, []common.Hash{e.client.DealID(r)})
	if err != nil || len(ref) != 1 {
		t.Fatalf("refund closing: %+v %v", ref, err)
	}
	eqBig(t, "refunded", ref[0].Amount, milli(6))
	eqBig(t, "slashed", ref[0].Slashed, milli(2))
}
