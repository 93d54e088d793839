package chainview_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cloudless-network/cloudless/contracts"
	"github.com/cloudless-network/cloudless/contracts/devnet"
	"github.com/cloudless-network/cloudless/ledger"
	"github.com/cloudless-network/cloudless/ledger/chainview"
)

// eventsOnly hides FilterDealClosings, so the view falls back to
// scanning every event.
type eventsOnly struct{ chainview.Source }

// The view says how a disputed deal closed: the mediator ruled for the
// provider, for the client, or stayed silent (DisputeExpired, a refund
// that is marked Expired). The log filter and the full event scan agree.
func TestDealOnChainDisputes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	keys := make([]*ecdsa.PrivateKey, 3)
	var addrs []common.Address
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		addrs = append(addrs, crypto.PubkeyToAddress(k.PublicKey))
	}
	chain, err := devnet.Start(ctx, devnet.Config{Fund: addrs})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	cs := make([]*contracts.Client, 3)
	for i, k := range keys {
		if cs[i], err = contracts.New(ctx, chain.Client(), chain.Contract(), k); err != nil {
			t.Fatal(err)
		}
	}
	client, provider, mediator := cs[0], cs[1], cs[2]
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	head, err := chain.Client().HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deal := func(n int64) contracts.DealParams {
		p := contracts.DealParams{Client: client.Address(), Provider: provider.Address(), Mediator: mediator.Address(),
			Price: big.NewInt(1e15 * n), Deadline: head.Time + 600, ChallengeWindow: 300, JobHash: crypto.Keccak256Hash(big.NewInt(n).Bytes())}
		_, _, err := client.OpenDeal(ctx, p, nil)
		must(nil, err)
		must(provider.SubmitResult(ctx, p, common.HexToHash("0x01")))
		must(client.Dispute(ctx, p))
		return p
	}
	forProv, forClient, silent, open := deal(1), deal(2), deal(3), deal(4)
	must(mediator.Resolve(ctx, forProv, true))
	must(mediator.Resolve(ctx, forClient, false))
	if err := chain.AdjustTime(301 * time.Second); err != nil {
		t.Fatal(err)
	}
	must(provider.ExpireDispute(ctx, silent))

	want := []ledger.ChainDeal{
		{Status: ledger.ChainDealClosed, Outcome: ledger.DealResolved, ForProvider: true},
		{Status: ledger.ChainDealClosed, Outcome: ledger.DealResolved},
		{Status: ledger.ChainDealClosed, Outcome: ledger.DealRefunded, Expired: true},
		{Status: ledger.ChainDealDisputed},
	}
	for _, src := range []chainview.Source{client, eventsOnly{client}} {
		v := chainview.New(src, 0)
		for i, p := range []contracts.DealParams{forProv, forClient, silent, open} {
			got, err := v.DealOnChain(ctx, client.DealID(p))
			if err != nil {
				t.Fatal(err)
			}
			w := want[i]
			if got.Status != w.Status || got.Outcome != w.Outcome || got.ForProvider != w.ForProvider || got.Expired != w.Expired {
				t.Errorf("%T deal %d: %+v, want %+v", src, i, got, w)
			}
			if got.Status == ledger.ChainDealClosed && got.CloseTx == (common.Hash{}) {
				t.Errorf("deal %d: no closing tx", i)
			}
		}
	}
}
